using System.Net;
using System.Text.RegularExpressions;
using Mesh.Node.Tests.Support;

namespace Mesh.EndToEnd.Tests;

/// <summary>GET /metrics on real mesh-node processes, after the real CLI pushed and waited.</summary>
[Collection(SecondEndToEndLane.Name)]
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-metrics-");

    [Fact]
    public async Task After_push_wait_every_node_serves_its_applies_and_every_documented_metric_off_loopback_only_with_the_token()
    {
        var local = await _nodes.StartAsync("local");
        var exposed = await _nodes.StartAsync("exposed", seed: local.ClusterAddress, apiHost: "0.0.0.0");
        await ThreeNodeMesh.Until(async () => (await local.MembersAsync()).Count(m => m.Status == "up") == 2, "two members up");
        var manifest = _nodes.Write("probe.yaml", "manifest: probe\nresources:\n  - { id: probe, type: file, path: /probe, content: \"scraped\\n\" }\n");

        var push = await local.Cli("push", manifest, "--wait", "--timeout", "60s");
        Assert.True(push.ExitCode == 0, push.ToString());

        using (var anonymous = new HttpClient())
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"http://{exposed.Api}/metrics")).StatusCode);
        foreach (var node in new[] { local, exposed })
        {
            // A node counts a report before it sends it: the CLI has seen both, so one scrape is enough.
            using var response = await node.MetricsAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType?.ToString());
            var metrics = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(1, metrics.Value("mesh_applies_total", ("manifest", "probe"), ("result", "ok")));
            Assert.Equal(1, metrics.Value("mesh_push_to_applied_seconds_count"));
            Assert.Equal(2, metrics.Value("mesh_cluster_members", ("status", "up")));
            Assert.True(metrics.Value("process_resident_memory_bytes") > 0);
            Assert.True(metrics.Value("process_cpu_seconds_total") > 0);
            Assert.All(Documented(), name => Assert.True(metrics.Types.ContainsKey(name), $"{name} is documented but not served by {node.Name}"));
        }
    }

    /// <summary>The metric families the operations guide's Monitoring section and the Grafana dashboard name.</summary>
    private static IEnumerable<string> Documented()
    {
        var guide = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "docs", "OPERATIONS.md"));
        var monitoring = guide[guide.IndexOf("## Monitoring", StringComparison.Ordinal)..guide.IndexOf("## Troubleshooting", StringComparison.Ordinal)];
        var dashboard = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "docs", "monitoring", "grafana-dashboard.json"));
        return Regex.Matches(monitoring + dashboard, @"\b(mesh|process|dotnet)_[a-z_]+")
            .Select(m => Regex.Replace(m.Value, "_(bucket|sum|count)$", ""))
            .Distinct();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}
