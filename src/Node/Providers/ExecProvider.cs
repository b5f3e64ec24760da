using System.ComponentModel;
using System.Diagnostics;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Runs commands. The guards are checked first (<c>creates</c>, then <c>unless</c>, then
/// <c>only_if</c>, cheapest first), in a dry run too; the command itself runs only when applying.
/// A <c>refresh_only</c> command runs only from <see cref="Refresh"/>. Any other command
/// already runs in <see cref="CheckApply"/> whenever its guards let it, so a notification does
/// not run it a second time. A command without guards has no state to check: it runs when its
/// revision is applied (and when notified), not on every re-check, where it would run for
/// nothing and count as drift every time. The result carries the tail of the command's output.
/// </summary>
public sealed class ExecProvider : IResourceProvider, IRefreshable
{
    /// <summary>How long to keep reading after the command ended, while something it left behind still holds its output open.</summary>
    private static readonly TimeSpan OutputGrace = TimeSpan.FromSeconds(2);

    public string Kind => ExecResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (ExecResource)resource;
        if (spec.RefreshOnly) return ProviderResult.Unchanged;
        if (context.Recheck && Unguarded(spec)) return new ProviderResult(ResourceAction.Unchanged, "not run again: it has no guard (creates, unless, only_if) and ran when its revision was applied");
        return Run(spec, context, apply, cancel);
    }

    public ProviderResult Refresh(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (ExecResource)resource;
        // On a re-check an unguarded command did not run in CheckApply: a notification runs it.
        return spec.RefreshOnly || (context.Recheck && Unguarded(spec)) ? Run(spec, context, apply, cancel) : ProviderResult.Unchanged;
    }

    private static bool Unguarded(ExecResource spec) => spec.Creates is null && spec.Unless is null && spec.OnlyIf is null;

    private static ProviderResult Run(ExecResource spec, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var cwd = context.Resolve(spec.Cwd ?? "/");
        if (!Directory.Exists(cwd))
        {
            // A plan cannot know whether an earlier resource would create it: say so instead of failing.
            if (!apply) return new ProviderResult(ResourceAction.Changed, $"would run {spec.Command} (its working directory {spec.Cwd} does not exist yet)");
            throw new ResourceException($"working directory {spec.Cwd} does not exist (declare it and require it)");
        }

        if (Guard(spec, context, cwd, cancel) is { } skip) return skip;
        if (!apply) return new ProviderResult(ResourceAction.Changed, $"would run {spec.Command}");

        var run = Execute(spec.Command, cwd, spec, cancel);
        if (run.TimedOut)
            return new ProviderResult(ResourceAction.Failed, $"{spec.Command} timed out after {Seconds(spec.Timeout)} and was killed", run.Output);
        if (run.ExitCode != 0)
            return new ProviderResult(ResourceAction.Failed, $"{spec.Command} failed: exit {run.ExitCode} in {run.Milliseconds} ms", run.Output);
        return new ProviderResult(ResourceAction.Changed, $"ran {spec.Command}: exit 0 in {run.Milliseconds} ms", run.Output);
    }

    /// <summary>The result that stops the command (unchanged: a guard says there is nothing to do; failed: a guard could not tell), or null to go on.</summary>
    private static ProviderResult? Guard(ExecResource spec, ApplyContext context, string cwd, CancellationToken cancel)
    {
        if (spec.Creates is not null)
        {
            var created = context.Resolve(spec.Creates);
            if (File.Exists(created) || Directory.Exists(created) || new FileInfo(created).LinkTarget is not null)
                return new ProviderResult(ResourceAction.Unchanged, $"skipped: {spec.Creates} exists");
        }
        foreach (var (name, guard, skipOnSuccess) in new[] { ("unless", spec.Unless, true), ("only_if", spec.OnlyIf, false) })
        {
            if (guard is null) continue;
            var run = Execute(guard, cwd, spec, cancel);
            if (run.TimedOut)
                return new ProviderResult(ResourceAction.Failed, $"{name} {guard} timed out after {Seconds(spec.Timeout)} and was killed", run.Output);
            if ((run.ExitCode == 0) == skipOnSuccess)
                return new ProviderResult(ResourceAction.Unchanged, $"skipped: {name} {guard} exited {run.ExitCode}");
        }
        return null;
    }

    private sealed record Outcome(int ExitCode, bool TimedOut, long Milliseconds, string? Output);

    /// <summary>
    /// Starts the program with its arguments one by one (no shell is involved unless the
    /// command is a shell string), stdin closed, and collects stdout and stderr as they come.
    /// On timeout or cancellation the whole process tree is killed.
    /// </summary>
    private static Outcome Execute(ExecCommand command, string cwd, ExecResource spec, CancellationToken cancel)
    {
        var argv = command.ToArgv();
        var start = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = cwd,
        };
        foreach (var argument in argv.Skip(1)) start.ArgumentList.Add(argument);
        foreach (var (name, value) in spec.Env) start.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new ResourceException($"cannot start {command}: {e.Message}");
        }
        process.StandardInput.Close();
        var tail = new OutputTail();
        var readers = new[] { tail.ReadAll(process.StandardOutput), tail.ReadAll(process.StandardError) };

        var exited = HostTools.WaitOrKill(process, spec.Timeout, cancel);
        if (!exited) process.WaitForExit(OutputGrace);
        var elapsed = clock.ElapsedMilliseconds;
        // A daemon the command started may keep the output open for ever: stop reading after a grace period.
        if (!Task.WaitAll(readers, OutputGrace))
            tail.Add("[output still held open by a process the command left running; stopped reading]");
        return new Outcome(exited ? process.ExitCode : -1, !exited, elapsed, tail.Text());
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 1 && t.Milliseconds == 0 ? $"{(long)t.TotalSeconds}s" : $"{(long)t.TotalMilliseconds}ms";

    /// <summary>The last lines of a command's combined output, bounded in lines and characters (a report carries it).</summary>
    private sealed class OutputTail
    {
        private const int MaxLines = 40;

        // What the lines may take, leaving room within a report's detail for the "not shown" note.
        private const int Budget = ApplyReport.MaxDetail - 100;

        private readonly LinkedList<string> _lines = new();
        private int _chars;
        private int _dropped;

        public async Task ReadAll(StreamReader reader)
        {
            try
            {
                while (await reader.ReadLineAsync() is { } line) Add(line);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The process is gone and its pipe closed: what was read is what there is.
            }
        }

        public void Add(string line)
        {
            if (line.Length >= Budget) line = string.Concat("…", line.AsSpan(line.Length - (Budget - 2)));
            lock (_lines)
            {
                _lines.AddLast(line);
                _chars += line.Length + 1;
                while (_lines.Count > MaxLines || _chars > Budget)
                {
                    _chars -= _lines.First!.Value.Length + 1;
                    _lines.RemoveFirst();
                    _dropped++;
                }
            }
        }

        public string? Text()
        {
            lock (_lines)
            {
                if (_lines.Count == 0) return null;
                var kept = string.Join('\n', _lines);
                return _dropped == 0 ? kept : $"[{_dropped} earlier lines not shown]\n{kept}";
            }
        }
    }
}
