using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using Mesh.Protocol.Secrets;
using Mesh.Protocol.Tasks;

namespace Mesh.Node.Tasks;

/// <summary>How one run of a task ended: exit code (null when it never started or was killed), output, and why it failed when it did.</summary>
public sealed record TaskOutcome(bool Ok, int? ExitCode, TimeSpan Duration, string Stdout, string Stderr, bool Truncated, string? Reason);

/// <summary>
/// Runs one task's command on this host: a list as argv, a script with <c>/bin/sh -c</c>; as
/// the stated user (through <c>runuser</c>, when it is not the node's own user), in the stated
/// directory (default <c>/</c>), with the task's secrets in its environment beside
/// <c>MESH_TASK_ID</c> and <c>MESH_NODE</c>. Past its timeout the process and every process it
/// started are killed. Each output stream is kept up to a cap (the rest is read and dropped, so
/// the command never blocks on a full pipe), and every secret is redacted from it.
/// </summary>
public static class TaskProcess
{
    public static async Task<TaskOutcome> RunAsync(TaskSpec spec, string node, string? user, IReadOnlyDictionary<string, string> secrets,
        long cap, CancellationToken cancel)
    {
        var redactor = new SecretRedactor(secrets.Values);
        var argv = spec.Script is not null ? new[] { "/bin/sh", "-c", spec.Script } : spec.Command!;
        if (user is not null && user != Environment.UserName)
        {
            if (!UserExists(user)) return NotRun($"no user '{user}' on this node");
            argv = ["runuser", "-u", user, "--", .. argv];
        }
        var dir = spec.WorkDir ?? "/";
        if (!Directory.Exists(dir)) return NotRun($"the working directory {dir} does not exist on this node");

        var info = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, WorkingDirectory = dir, UseShellExecute = false,
        };
        foreach (var a in argv.Skip(1)) info.ArgumentList.Add(a);
        info.Environment["MESH_TASK_ID"] = spec.Id;
        info.Environment["MESH_NODE"] = node;
        foreach (var (name, value) in secrets) info.Environment[name] = value;

        var clock = Stopwatch.StartNew();
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            return NotRun($"cannot start {argv[0]}: {e.Message}");
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = new CappedText(cap);
            var stderr = new CappedText(cap);
            var reading = Task.WhenAll(stdout.ReadAsync(process.StandardOutput), stderr.ReadAsync(process.StandardError));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(spec.Timeout);
            string? killed = null;
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                killed = cancel.IsCancellationRequested ? "cancelled while running" : $"timeout: still running after {spec.Timeout.TotalSeconds:0.###}s, killed";
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // It ended just then.
                }
                await process.WaitForExitAsync(CancellationToken.None);
            }
            // Grandchildren may hold the pipes open after the process exits: read what is there, not forever.
            await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None));
            var code = killed is null ? process.ExitCode : (int?)null;
            var ok = killed is null && code == 0;
            return new TaskOutcome(ok, code, clock.Elapsed, redactor.Redact(stdout.Text) ?? "", redactor.Redact(stderr.Text) ?? "",
                stdout.Truncated || stderr.Truncated, killed ?? (ok ? null : $"exit code {code}"));
        }

        static TaskOutcome NotRun(string why) => new(false, null, TimeSpan.Zero, "", "", false, why);
    }

    private static bool UserExists(string user)
    {
        try
        {
            return File.ReadLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The first <c>cap</c> bytes of a stream, as text; the rest is read and dropped.</summary>
    private sealed class CappedText(long cap)
    {
        private readonly StringBuilder _text = new();
        private long _bytes;
        private volatile bool _truncated;

        public bool Truncated => _truncated;

        public string Text
        {
            get { lock (_text) return _text.ToString(); }
        }

        public async Task ReadAsync(StreamReader reader)
        {
            var buffer = new char[8192];
            int n;
            while ((n = await reader.ReadAsync(buffer)) > 0)
                lock (_text)
                {
                    if (_bytes >= cap)
                    {
                        _truncated = true;
                        continue;
                    }
                    var take = (int)Math.Min(n, cap - _bytes);
                    var size = Encoding.UTF8.GetByteCount(buffer, 0, take);
                    while (_bytes + size > cap && take > 0) size = Encoding.UTF8.GetByteCount(buffer, 0, --take);
                    if (take < n) _truncated = true;
                    _text.Append(buffer, 0, take);
                    _bytes += size;
                }
        }
    }
}
