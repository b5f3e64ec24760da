using System.Diagnostics;
using System.Net.Sockets;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Rollouts;

/// <summary>
/// Runs a rollout's commands (drain, undrain, a command check) and its health checks on this
/// host: a command must exit 0, an HTTP GET answer 2xx (with the body when one is asked), a TCP
/// port accept. Each check waits its settle delay first and is tried 1 + retries times, each
/// try within its timeout. Commands see MESH_NODE, MESH_MANIFEST, MESH_VERSION and MESH_ROOT.
/// </summary>
public static class HealthProbe
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Why the check failed on its last try, or null when it passed.</summary>
    public static async Task<string?> CheckAsync(HealthCheck check, IReadOnlyDictionary<string, string> env, CancellationToken cancel)
    {
        if (check.Settle > TimeSpan.Zero) await Task.Delay(check.Settle, cancel);
        string? why = null;
        for (var attempt = 0; attempt <= check.Retries; attempt++)
        {
            if (attempt > 0) await Task.Delay(RetryDelay(check), cancel);
            why = await TryOnceAsync(check, env, cancel);
            if (why is null) return null;
        }
        return check.Retries > 0 ? $"{why} ({check.Retries + 1} tries)" : why;
    }

    /// <summary>Runs a drain or undrain: why it failed, or null.</summary>
    public static async Task<string?> RunAsync(RolloutCommand command, IReadOnlyDictionary<string, string> env, CancellationToken cancel) =>
        await Task.Run(() => Command(command.Command, command.Timeout, env, cancel), cancel) is { } why ? $"'{command.Command}' {why}" : null;

    /// <summary>Between tries: a second, or the timeout when shorter, so a quick check retries quickly.</summary>
    private static TimeSpan RetryDelay(HealthCheck check) => check.Timeout < TimeSpan.FromSeconds(1) ? check.Timeout : TimeSpan.FromSeconds(1);

    private static async Task<string?> TryOnceAsync(HealthCheck check, IReadOnlyDictionary<string, string> env, CancellationToken cancel)
    {
        switch (check.Kind)
        {
            case HealthKind.Command:
                return await Task.Run(() => Command(check.Target, check.Timeout, env, cancel), cancel);
            case HealthKind.Http:
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
                {
                    timeout.CancelAfter(check.Timeout);
                    try
                    {
                        using var response = await Http.GetAsync(check.Target, timeout.Token);
                        var code = (int)response.StatusCode;
                        if (code is < 200 or > 299) return $"GET {check.Target} answered {code}";
                        if (check.Body is null) return null;
                        var body = await response.Content.ReadAsStringAsync(timeout.Token);
                        return body.Contains(check.Body, StringComparison.Ordinal) ? null : $"GET {check.Target}: the body does not contain '{check.Body}'";
                    }
                    catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                    {
                        return $"GET {check.Target}: no answer within {Protocol.Durations.Format(check.Timeout)}";
                    }
                    catch (HttpRequestException e)
                    {
                        return $"GET {check.Target}: {e.Message}";
                    }
                }
            default:
                var colon = check.Target.LastIndexOf(':');
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
                {
                    timeout.CancelAfter(check.Timeout);
                    try
                    {
                        using var client = new TcpClient();
                        await client.ConnectAsync(check.Target[..colon].Trim('[', ']'), int.Parse(check.Target[(colon + 1)..]), timeout.Token);
                        return null;
                    }
                    catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                    {
                        return $"tcp {check.Target}: no connection within {Protocol.Durations.Format(check.Timeout)}";
                    }
                    catch (SocketException e)
                    {
                        return $"tcp {check.Target}: {e.Message}";
                    }
                }
        }
    }

    private static string? Command(string text, TimeSpan timeout, IReadOnlyDictionary<string, string> env, CancellationToken cancel)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(text);
        foreach (var (name, value) in env) start.Environment[name] = value;
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"could not start: {e.Message}";
        }
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(cancel);
        var error = process.StandardError.ReadToEndAsync(cancel);
        if (!HostTools.WaitOrKill(process, timeout, cancel)) return $"did not finish within {Protocol.Durations.Format(timeout)}";
        process.WaitForExit();
        if (process.ExitCode == 0) return null;
        var said = Tail(error.IsCompletedSuccessfully ? error.Result : "") is { Length: > 0 } e2 ? e2 : Tail(output.IsCompletedSuccessfully ? output.Result : "");
        return $"exited {process.ExitCode}" + (said.Length > 0 ? $": {said}" : "");
    }

    private static string Tail(string text)
    {
        text = text.Trim();
        return text.Length <= 300 ? text : "…" + text[^299..];
    }
}
