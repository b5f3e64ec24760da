using System.Diagnostics;
using static Mesh.Bench.Progress;

namespace Mesh.Bench;

/// <summary>
/// HashiCorp serf agents on loopback, the yardstick of an agent nobody notices: started, joined
/// into one cluster and measured the same way and in the same run as the Mesh nodes. Absent
/// when the <c>serf</c> program is not installed (Debian package <c>serf</c>).
/// </summary>
public sealed class SerfAgents : IDisposable
{
    private readonly List<Process> _agents = [];

    public IReadOnlyList<int> Pids => _agents.Select(p => p.Id).ToArray();

    public static bool Installed => !Skip && Which("serf") is not null;

    /// <summary>Leave serf out of this run (<c>--no-serf</c>).</summary>
    public static bool Skip { get; set; }

    /// <summary>Starts <paramref name="count"/> agents, the others joined to the first, and waits until the first sees them all alive.</summary>
    public static async Task<SerfAgents> StartAsync(int count, CancellationToken cancel)
    {
        var serf = new SerfAgents();
        try
        {
            var rpc = new int[count];
            for (var i = 0; i < count; i++)
            {
                var bind = Mesh.EndToEnd.Tests.Binaries.FreePort();
                rpc[i] = Mesh.EndToEnd.Tests.Binaries.FreePort();
                var info = new ProcessStartInfo("serf") { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in new[] { "agent", $"-node=serf{i:00}", $"-bind=127.0.0.1:{bind}", $"-rpc-addr=127.0.0.1:{rpc[i]}", "-log-level=warn" })
                    info.ArgumentList.Add(a);
                // -retry-join, not -join: an agent started before the first one listens keeps trying.
                if (i > 0) foreach (var a in new[] { $"-retry-join=127.0.0.1:{serf.BindOfFirst}", "-retry-interval=1s" }) info.ArgumentList.Add(a);
                else serf.BindOfFirst = bind;
                var p = Process.Start(info)!;
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                serf._agents.Add(p);
            }
            serf.FirstRpc = rpc[0];
            await BenchMesh.Until(async () => await serf.AliveAsync(cancel) >= count, $"{count} serf agents alive", TimeSpan.FromSeconds(60), cancel);
            Log($"serf: {count} agents joined");
            return serf;
        }
        catch
        {
            serf.Dispose();
            throw;
        }
    }

    private int BindOfFirst { get; set; }

    /// <summary>The RPC port of the first agent (for <c>serf members -rpc-addr</c>).</summary>
    public int FirstRpc { get; private set; }

    private async Task<int> AliveAsync(CancellationToken cancel)
    {
        var info = new ProcessStartInfo("serf") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "members", $"-rpc-addr=127.0.0.1:{FirstRpc}", "-status=alive" }) info.ArgumentList.Add(a);
        var result = await Mesh.EndToEnd.Tests.Binaries.RunToExitAsync(info, TimeSpan.FromSeconds(10));
        return result.ExitCode == 0 ? result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length : 0;
    }

    public void Dispose()
    {
        foreach (var p in _agents)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // Never started.
            }
            p.Dispose();
        }
    }

    public static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
}
