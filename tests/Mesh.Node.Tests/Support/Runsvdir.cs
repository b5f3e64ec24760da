using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Mesh.Node.Providers;

namespace Mesh.Node.Tests.Support;

/// <summary>
/// A real runsvdir watching a scan directory of its own, in a process group of its own.
/// Disposing kills it with every runsv and service it started, whether the test passed or not.
/// </summary>
public sealed class Runsvdir : IDisposable
{
    private const int SigKill = 9;

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    public string ScanDirectory { get; }

    /// <summary>What runsvdir and the services it supervises printed, for failure messages.</summary>
    public string Log
    {
        get { lock (_log) return _log.ToString(); }
    }

    public Runsvdir(string scanDirectory)
    {
        RequireRunit();
        ScanDirectory = scanDirectory;
        // setsid: a new process group, so one kill reaches runsvdir, its runsv children and their services.
        var info = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("runsvdir");
        info.ArgumentList.Add(scanDirectory);
        _process = Process.Start(info) ?? throw new InvalidOperationException("runsvdir did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // setsid execs runsvdir in place (it forks only when already a group leader, which a fresh child is not).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (CommandOf(_process.Id) != "runsvdir")
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new InvalidOperationException($"runsvdir did not start on {scanDirectory}: {Log}");
            }
            Thread.Sleep(20);
        }
    }

    private static string? CommandOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Fails (never skips) when a runit tool the service tests drive is missing.</summary>
    public static void RequireRunit()
    {
        foreach (var tool in new[] { "sv", "runsvdir", "runsv", "setsid" })
            if (!HostTools.OnPath(tool))
                throw new InvalidOperationException(
                    $"'{tool}' is not installed (not on PATH): the service tests drive a real runit. " +
                    "test.sh installs the Debian packages of tests/apt-packages.txt when run as root; or: apt-get install runit");
    }

    public void Dispose()
    {
        StopServices();
        // Everything below runsvdir, found before anything dies (a dying runsv's service is re-parented
        // and would no longer be found), then the whole group, then each one found, in case one left the group.
        var tree = DescendantsOf(_process.Id);
        kill(-_process.Id, SigKill);
        kill(_process.Id, SigKill);
        foreach (var pid in tree) kill(pid, SigKill);
        _process.WaitForExit(10_000);
        _process.Dispose();
    }

    /// <summary>
    /// The gentle part: unlinks every service (so runsvdir does not start a new runsv), then
    /// lets each runsv stop its service and exit, so each process is reaped by its own parent
    /// instead of being left to PID 1 (which, in a container, may never reap it).
    /// </summary>
    private void StopServices()
    {
        if (!Directory.Exists(ScanDirectory)) return;
        foreach (var entry in new DirectoryInfo(ScanDirectory).EnumerateFileSystemInfos())
        {
            var dir = entry.LinkTarget is { } target ? Path.GetFullPath(target, ScanDirectory) : entry.FullName;
            try
            {
                if (entry.LinkTarget is not null) entry.Delete();
                HostTools.Run("sv", ["-v", "-w", "5", "exit", dir], TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or ResourceException)
            {
                // The hard part below still kills it.
            }
        }
        // runsvdir may still try a runsv for an entry it has not yet seen go: let it reap that one too.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DescendantsOf(_process.Id).Count > 0 && DateTime.UtcNow < deadline) Thread.Sleep(20);
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    /// <summary>Every process whose chain of parents leads to <paramref name="root"/>.</summary>
    public static IReadOnlyList<int> DescendantsOf(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var parent = int.Parse(fields[1]);
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            list.Add(pid);
        }
        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var pid))
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        return found;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
