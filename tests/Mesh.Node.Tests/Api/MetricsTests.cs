using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Mesh.Node.Api;
using Mesh.Node.Tests.Cluster;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Api;

[Collection(ClusterCollection.Name)]
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    /// <summary>A file right under the node's root, which exists: no directory resource needed.</summary>
    private static readonly PushRequest Probe = new([new ManifestFile("probe.yaml", """
        manifest: probe
        resources:
          - { id: probe, type: file, path: /probe, content: "scraped\n" }
        """)], "test", "tester");

    private static readonly (string, string) Ok = ("result", "ok");
    private static readonly (string, string) OfProbe = ("manifest", "probe");

    [Fact]
    public async Task After_a_push_applied_on_two_nodes_each_node_serves_what_it_did_in_prometheus_text()
    {
        await using var origin = await _mesh.StartWithApi("origin");
        await using var target = await _mesh.StartWithApi("target");

        await origin.Node.Revisions.PushAsync(Probe);

        // The target first: once it has applied, the origin has served it the body.
        var atTarget = await Eventually.Value(() => When(Over(target), m => m.Value("mesh_applies_total", OfProbe, Ok) >= 1), "target counts its apply");
        var atOrigin = await Eventually.Value(() => When(Over(origin), m => m.Value("mesh_applies_total", OfProbe, Ok) >= 1), "origin counts its apply");

        foreach (var metrics in new[] { atOrigin, atTarget })
        {
            Assert.True(metrics.Value("mesh_revisions_received_total", OfProbe) >= 1);
            Assert.True(metrics.Value("mesh_apply_duration_seconds_count") >= 1);
            Assert.True(metrics.Value("mesh_push_to_applied_seconds_count") >= 1);
            Assert.Equal("histogram", metrics.Types["mesh_push_to_applied_seconds"]);
            Assert.Equal(2, metrics.Value("mesh_cluster_members", ("status", "up")));
            Assert.Equal(0, metrics.Value("mesh_cluster_members", ("status", "joining")));
            Assert.Equal(0, metrics.Value("mesh_cluster_members_unreachable"));
            Assert.True(metrics.Value("process_resident_memory_bytes") > 0);
            Assert.True(metrics.Value("process_cpu_seconds_total") > 0);
            Assert.NotNull(metrics.Value("dotnet_total_memory_bytes"));
            Assert.Null(metrics.Value("mesh_drift_repairs_total", OfProbe));
        }
        // The origin read the heads, wrote the revision and served its body; the target pulled it from the origin.
        Assert.True(atOrigin.Value("mesh_store_request_duration_seconds_count", ("operation", "read")) > 0);
        Assert.True(atOrigin.Value("mesh_store_request_duration_seconds_count", ("operation", "write")) > 0);
        Assert.True(atOrigin.Value("mesh_content_served_bytes_total") > 0);
        Assert.Equal(0, atOrigin.Value("mesh_content_fetched_bytes_total"));
        Assert.True(atTarget.Value("mesh_content_fetched_bytes_total") > 0);
        Assert.Equal(0, atTarget.Value("mesh_content_served_bytes_total"));
    }

    [Fact]
    public async Task Off_loopback_metrics_need_the_token_like_every_route()
    {
        await using var api = await _mesh.StartWithApi("exposed", "0.0.0.0");

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Http.GetAsync("metrics")).StatusCode);

        var token = File.ReadAllText(Path.Combine(api.Node.Settings.DataDir, ApiToken.FileName)).Trim();
        api.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await api.Http.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MetricsEndpoint.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Equal(1, PrometheusText.Parse(await response.Content.ReadAsStringAsync()).Value("mesh_cluster_members", ("status", "up")));
    }

    [Fact]
    public async Task A_repaired_drift_is_counted_for_its_manifest_as_a_report()
    {
        var node = _mesh.Start("solo", extraHocon: "mesh.converge { interval = 10m, jitter = 0, watch = on }");
        await _mesh.Converged();
        await node.Revisions.PushAsync(Probe);
        await Eventually.Value(() => When(Direct(node), m => m.Value("mesh_applies_total", OfProbe, Ok) >= 1), "probe applied");

        File.WriteAllText(_mesh.RootOf(node, "/probe"), "hand edited\n");

        var metrics = await Eventually.Value(() => When(Direct(node), m => m.Value("mesh_drift_repairs_total", OfProbe) >= 1), "the drift repair counted");
        Assert.Equal(1, metrics.Value("mesh_drift_repairs_total", OfProbe));
        Assert.Equal(2, metrics.Value("mesh_applies_total", OfProbe, Ok));
        Assert.Equal(1, metrics.Value("mesh_push_to_applied_seconds_count"));
    }

    /// <summary>The metrics <paramref name="scrape"/> reads, parsed, when they satisfy <paramref name="condition"/>; else null.</summary>
    private static async Task<PrometheusText?> When(Task<string> scrape, Func<PrometheusText, bool> condition) =>
        PrometheusText.Parse(await scrape) is var metrics && condition(metrics) ? metrics : null;

    private static Task<string> Over(RunningApi api) => api.Http.GetStringAsync("metrics");

    private static async Task<string> Direct(MeshNode node)
    {
        using var output = new MemoryStream();
        await node.Metrics.WriteAsync(output, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
