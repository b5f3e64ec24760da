using System.ComponentModel;
using System.Diagnostics;

namespace Mesh.Node.Providers;

/// <summary>
/// The host's own tools (sv, systemctl, dpkg, apt-get, useradd, ...) as providers run them:
/// arguments as a list, never a shell string, stdin closed, a time limit after which the
/// tool is killed (and killed too when the run is cancelled), and what it printed kept for the report.
/// </summary>
public static class HostTools
{
    /// <summary>Whether an executable of that name is in a directory of PATH.</summary>
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>
    /// Runs a tool to its end; a tool that does not finish in time is killed and reported, one
    /// whose run is cancelled is killed and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    internal static ToolOutput Run(string tool, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancel)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var line = $"{tool} {string.Join(' ', args)}";
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new ResourceException($"{line}: could not be started");
        }
        catch (Win32Exception e)
        {
            throw new ResourceException($"{line}: {tool} cannot be run ({e.Message})");
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!WaitOrKill(process, timeout, cancel))
                throw new ResourceException($"{line}: did not finish within {timeout.TotalSeconds:0} s");
            process.WaitForExit();
            return new ToolOutput(line, process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>
    /// Waits for a started process to end; false when the time ran out. A process that outlives
    /// the timeout, or its run's cancellation, is killed with everything it started, so nothing
    /// it left behind goes on changing the host; a cancelled wait throws <see cref="OperationCanceledException"/>.
    /// </summary>
    internal static bool WaitOrKill(Process process, TimeSpan timeout, CancellationToken cancel)
    {
        bool exited;
        using (cancel.Register(() => KillTree(process)))
            exited = process.WaitForExit(timeout);
        if (!exited) KillTree(process);
        cancel.ThrowIfCancellationRequested();
        return exited;
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It ended on its own in the meantime.
        }
    }
}

/// <summary>What a tool printed and how it ended.</summary>
internal sealed record ToolOutput(string CommandLine, int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    public string Text => string.Join(' ', new[] { Output.Trim(), Error.Trim() }.Where(t => t.Length > 0));

    /// <summary>Fails the resource with what the tool said when it did not succeed.</summary>
    public ToolOutput OrFail()
    {
        if (!Succeeded)
            throw new ResourceException($"{CommandLine} failed (exit {ExitCode}){(Text.Length > 0 ? ": " + Text : "")}");
        return this;
    }
}
