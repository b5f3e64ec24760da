using System.Net;
using System.Text.Json;
using Mesh.Node.Api;
using Mesh.Node.Tests.Cluster;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;

namespace Mesh.Node.Tests.Api;

/// <summary><c>/healthz</c> and <c>/readyz</c> on the control API: alive at once, ready only once a manifest for this node is applied.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ProbeTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly TempDir _gate = new();

    /// <summary>A manifest whose one command runs until the test opens the gate: the node stays busy applying it until then.</summary>
    private string Gated => $$"""
        manifest: gated
        resources:
          - id: wait
            type: exec
            command: ["/bin/sh", "-c", "while [ ! -e '{{_gate["open"]}}' ]; do sleep 0.02; done"]
        """;

    [Fact]
    public async Task Healthz_answers_while_the_node_runs_and_readyz_waits_for_the_first_apply_of_a_manifest_for_this_node()
    {
        var port = Ports.Free();
        var node = _mesh.Start("probed", extraHocon: $"mesh.api = \"127.0.0.1:{port}\"");
        await using var app = await ControlApi.StartAsync(node);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        await _mesh.Converged();
        await Eventually.Value(async () => await http.GetAsync("readyz") is { StatusCode: HttpStatusCode.OK } r ? r : null, "ready with nothing to apply");

        await node.Revisions.PushAsync(new PushRequest([new ManifestFile("gated.yaml", Gated)], null, "tester"));
        var waiting = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, waiting.StatusCode);
        var body = JsonDocument.Parse(await waiting.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.GetProperty("ready").GetBoolean());
        Assert.Equal("1 manifest(s) not yet applied: gated", body.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);

        File.WriteAllText(_gate["open"], "");
        var ready = await Eventually.Value(async () => await http.GetAsync("readyz") is { StatusCode: HttpStatusCode.OK } r ? r : null, "ready once applied");
        Assert.True(JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal("ok", (await node.Queries.StatusAsync("gated")).Manifests.Single().State);
    }

    [Fact]
    public async Task Off_loopback_the_probes_need_the_token_like_every_route()
    {
        await using var api = await _mesh.StartWithApi("guarded", host: "0.0.0.0");

        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Http.GetAsync("readyz")).StatusCode);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        File.WriteAllText(_gate["open"], "");
        await _mesh.DisposeAsync();
        _gate.Dispose();
    }
}
