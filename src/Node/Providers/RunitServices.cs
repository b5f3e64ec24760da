using System.Text;
using System.Text.RegularExpressions;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// runit, for hosts whose PID 1 is not systemd. A service is a directory
/// <c>&lt;root&gt;/etc/sv/&lt;name&gt;</c> holding a <c>run</c> script; runsvdir starts one runsv
/// per entry of its scan directory (<c>/etc/service</c> under the root unless given), and runsv
/// keeps the service up or down as <c>sv up/down/restart</c> ask.
/// <para>
/// Enabled (starts at boot) means linked into the scan directory without a <c>down</c> file:
/// runsv reads <c>down</c> only when it starts, so a service can run now and still stay down
/// at the next boot, as with systemd. Starting a service that is not linked links it with a
/// <c>down</c> file (started, not enabled); enabling one that is not linked links it with a
/// <c>down</c> file and removes the file once runsv is up (enabled, not started).
/// </para>
/// <para>
/// A new link is picked up by runsvdir's next scan (every 5 s), so the first supervision of a
/// service waits for its runsv, up to <c>pickupTimeout</c>. Mesh does not start runsv itself:
/// runsvdir stays the only owner of runsv processes (it restarts a dead runsv, stops one whose
/// link is removed), and a second runsv on the same directory would only fight for its lock.
/// </para>
/// </summary>
public sealed partial class RunitServices : IServiceManager
{
    private static readonly UnixMode RunMode = new(Convert.ToInt32("755", 8));
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly string? _scanDirectory;
    private readonly TimeSpan _pickupTimeout;
    private readonly TimeSpan _stateTimeout;

    /// <param name="scanDirectory">The directory runsvdir watches; default <c>/etc/service</c> under the node's root.</param>
    /// <param name="pickupTimeout">How long to wait for runsvdir to start a runsv for a newly linked service (default 15 s: three scans).</param>
    /// <param name="stateTimeout">How long sv waits for a service to come up, go down or restart (default 30 s).</param>
    public RunitServices(string? scanDirectory = null, TimeSpan? pickupTimeout = null, TimeSpan? stateTimeout = null)
    {
        _scanDirectory = scanDirectory;
        _pickupTimeout = pickupTimeout ?? TimeSpan.FromSeconds(15);
        _stateTimeout = stateTimeout ?? TimeSpan.FromSeconds(30);
    }

    public string Name => "runit";

    [GeneratedRegex(@"^run: [^\n]*?\(pid (\d+)\)")]
    private static partial Regex RunningPid();

    public ProviderResult Define(ServiceResource service, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var runPath = $"{ServiceResource.RunitServiceDirectory}/{service.Name}/run";
        var hostRun = context.Resolve(runPath);
        if (service.Run is null)
        {
            if (File.Exists(hostRun)) return ProviderResult.Unchanged;
            // A plan cannot know whether an earlier resource would write the run script: say so instead of failing.
            if (!apply) return new ProviderResult(ResourceAction.Unchanged, $"{runPath} does not exist yet");
            throw new ResourceException(
                $"runit service {service.Name} is not defined: {runPath} does not exist (give 'run', or write it with a file resource the service requires)");
        }

        var desired = RunScript(service.Run);
        if (!File.Exists(hostRun))
        {
            if (apply)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(hostRun)!);
                FileWriter.WriteAtomically(hostRun, desired, RunMode);
            }
            return new ProviderResult(ResourceAction.Created, $"created {runPath}", FileProvider.UnifiedDiff(runPath, "", desired));
        }

        var current = File.ReadAllBytes(hostRun);
        var mode = new UnixMode((int)File.GetUnixFileMode(hostRun));
        if (current.AsSpan().SequenceEqual(desired))
        {
            if (mode == RunMode) return ProviderResult.Unchanged;
            if (apply) File.SetUnixFileMode(hostRun, RunMode.ToFileMode());
            return new ProviderResult(ResourceAction.Changed, $"{runPath} mode {mode} -> {RunMode}");
        }
        if (apply)
        {
            FileBackups.Keep(context, runPath, hostRun);
            FileWriter.WriteAtomically(hostRun, desired, RunMode);
        }
        return new ProviderResult(ResourceAction.Changed, $"changed {runPath}", FileProvider.UnifiedDiff(runPath, Encoding.UTF8.GetString(current), desired));
    }

    /// <summary>The run script for a <c>run</c> command line.</summary>
    public static byte[] RunScript(string run) =>
        Encoding.UTF8.GetBytes($"#!/bin/sh\n# Written by mesh from the service's 'run' field: edits here are undone.\n{run.TrimEnd('\n')}\n");

    public bool IsRunning(string name, ApplyContext context, CancellationToken cancel) => RunningPidOf(name, context, cancel) is not null;

    /// <summary>The pid of the running service, or null when it is down or not supervised.</summary>
    public int? RunningPidOf(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = ServiceDirectory(name, context);
        if (!Directory.Exists(Path.Combine(dir, "supervise"))) return null;
        var status = Sv("status", dir, cancel);
        if (!status.Succeeded) return null;
        var match = RunningPid().Match(status.Output);
        return match.Success ? int.Parse(match.Groups[1].Value) : null;
    }

    public void Start(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = Supervise(name, context, cancel);
        Sv("up", dir, cancel, wait: true).OrFail();
    }

    public void Stop(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = ServiceDirectory(name, context);
        if (!Answers(dir, cancel)) return;
        Sv("down", dir, cancel, wait: true).OrFail();
    }

    public void Restart(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = Supervise(name, context, cancel);
        var before = RunningPidOf(name, context, cancel);
        Sv("restart", dir, cancel, wait: true).OrFail();
        // sv can report the old process as "ok" while runsv still holds back a restart (runsv
        // waits a second before restarting a service that ran for less than one): wait for the new one.
        var deadline = DateTime.UtcNow + _stateTimeout;
        while (true)
        {
            var now = RunningPidOf(name, context, cancel);
            if (now is not null && now != before) return;
            if (DateTime.UtcNow > deadline)
                throw new ResourceException($"runit service {name} did not restart within {_stateTimeout.TotalSeconds:0} s: {Sv("status", dir, cancel).Text}");
            Pause(cancel);
        }
    }

    public bool IsEnabled(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = ServiceDirectory(name, context);
        return IsLinked(name, dir, context) && !File.Exists(Path.Combine(dir, "down"));
    }

    public void Enable(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = Supervise(name, context, cancel);
        File.Delete(Path.Combine(dir, "down"));
    }

    public void Disable(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = ServiceDirectory(name, context);
        // Not linked: nothing starts it at boot already.
        if (IsLinked(name, dir, context)) File.WriteAllBytes(Path.Combine(dir, "down"), []);
    }

    private string ServiceDirectory(string name, ApplyContext context) =>
        context.Resolve($"{ServiceResource.RunitServiceDirectory}/{name}");

    private string ScanDirectory(ApplyContext context) => _scanDirectory ?? context.Resolve("/etc/service");

    /// <summary>
    /// Makes sure a runsv supervises the service, linking it into the scan directory when it is
    /// not (with a <c>down</c> file, so the link alone starts nothing). Returns its directory.
    /// </summary>
    private string Supervise(string name, ApplyContext context, CancellationToken cancel)
    {
        var dir = ServiceDirectory(name, context);
        if (!File.Exists(Path.Combine(dir, "run")))
            throw new ResourceException($"runit service {name} is not defined: {ServiceResource.RunitServiceDirectory}/{name}/run does not exist");
        var linked = IsLinked(name, dir, context);
        if (linked && Answers(dir, cancel)) return dir;

        var scan = ScanDirectory(context);
        if (!RunsvdirIsRunning())
            throw new ResourceException($"runit: no runsvdir is running, so nothing supervises {name} (start runsvdir on {scan})");
        if (!linked)
        {
            if (!Directory.Exists(scan))
                throw new ResourceException($"runit: the scan directory {scan} does not exist (is runsvdir set up?)");
            File.WriteAllBytes(Path.Combine(dir, "down"), []);
            File.CreateSymbolicLink(Path.Combine(scan, name), dir);
        }

        var deadline = DateTime.UtcNow + _pickupTimeout;
        while (!Answers(dir, cancel))
        {
            if (DateTime.UtcNow > deadline)
                throw new ResourceException(
                    $"runit: no runsv started for {name} within {_pickupTimeout.TotalSeconds:0} s of linking it into {scan} (is that the directory runsvdir watches?)");
            Pause(cancel);
        }
        return dir;
    }

    /// <summary>One poll interval of a wait for runsv, cut short when the run is cancelled.</summary>
    private static void Pause(CancellationToken cancel)
    {
        cancel.WaitHandle.WaitOne(Poll);
        cancel.ThrowIfCancellationRequested();
    }

    /// <summary>Whether a runsv answers for the directory.</summary>
    private bool Answers(string dir, CancellationToken cancel) =>
        Directory.Exists(Path.Combine(dir, "supervise")) && Sv("status", dir, cancel).Succeeded;

    /// <summary>Whether the scan directory links to the service; something else in its place is an error, not replaced.</summary>
    private bool IsLinked(string name, string dir, ApplyContext context)
    {
        var entry = Path.Combine(ScanDirectory(context), name);
        var info = new FileInfo(entry);
        if (info.LinkTarget is { } target)
        {
            var resolved = Path.GetFullPath(target, Path.GetDirectoryName(entry)!);
            if (resolved == dir || info.ResolveLinkTarget(returnFinalTarget: true)?.FullName == dir) return true;
            throw new ResourceException($"{entry} links to {target}, not to {dir}");
        }
        if (info.Exists || Directory.Exists(entry))
            throw new ResourceException($"{entry} exists and is not a link to {dir}");
        return false;
    }

    private static bool RunsvdirIsRunning()
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out _)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(proc, "comm")).Trim() == "runsvdir") return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return false;
    }

    /// <summary>Runs sv on the service directory (always by absolute path: sv reads a bare name as relative to $SVDIR).</summary>
    private ToolOutput Sv(string command, string dir, CancellationToken cancel, bool wait = false)
    {
        var seconds = ((int)Math.Ceiling(_stateTimeout.TotalSeconds)).ToString();
        string[] args = wait ? ["-v", "-w", seconds, command, dir] : [command, dir];
        return HostTools.Run("sv", args, _stateTimeout + TimeSpan.FromSeconds(10), cancel);
    }
}
