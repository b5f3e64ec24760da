using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class PlanTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private static PushRequest Request(string yaml, Dictionary<string, byte[]>? attachments = null) =>
        new([new ManifestFile("app.yaml", yaml, attachments)], "test", "tester");

    private const string App = """
        manifest: app
        vars: { port: "8080" }
        resources:
          - { id: etc, type: directory, path: /etc }
          - id: conf
            type: file
            path: /etc/app.conf
            requires: [etc]
            template: "port = {{ vars.port }} on {{ node.name }}\n"
          - { id: tool, type: file, path: /etc/tool, source: files/tool, requires: [etc] }
        """;

    private static readonly Dictionary<string, byte[]> Tool = new() { ["files/tool"] = "#!/bin/sh\necho tool\n"u8.ToArray() };

    [Fact]
    public async Task A_dry_run_asks_every_targeted_node_and_changes_nothing_anywhere()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();

        var plan = await a.Fleet.PlanAsync(Request(App, Tool), TimeSpan.FromSeconds(20));

        var manifest = Assert.Single(plan.Manifests);
        Assert.Equal(["a", "b"], manifest.Targets);
        Assert.Empty(manifest.Silent);
        foreach (var p in manifest.Plans)
        {
            Assert.True(p.Succeeded, p.Error);
            Assert.Equal(3, p.Changed);
            var conf = p.Resources.Single(r => r.Id == "conf");
            Assert.Equal(ResourceAction.Created, conf.Action);
            Assert.Contains($"+port = 8080 on {p.Node}", conf.Detail);
        }
        Assert.Empty(await a.Store.IndexAsync());
        Assert.False(Directory.Exists(_mesh.RootOf(b, "/etc")));
    }

    [Fact]
    public async Task After_the_push_the_plan_is_empty_and_a_changed_value_shows_as_a_diff()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        await b.Revisions.PushAsync(Request(App, Tool));
        await Eventually.True(() => a.Queries.StatusAsync("app").Result.Manifests.Count(s => s.State == "ok") == 2, "both nodes applied app");
        Assert.Equal("#!/bin/sh\necho tool\n", File.ReadAllText(_mesh.RootOf(a, "/etc/tool")));

        var same = await a.Fleet.PlanAsync(Request(App, Tool), TimeSpan.FromSeconds(20));
        Assert.All(Assert.Single(same.Manifests).Plans, p => Assert.Equal(0, p.Changed));

        var changed = await a.Fleet.PlanAsync(Request(App.Replace("8080", "9090"), Tool), TimeSpan.FromSeconds(20));
        foreach (var p in Assert.Single(changed.Manifests).Plans)
        {
            var conf = Assert.Single(p.Resources);
            Assert.Equal(ResourceAction.Changed, conf.Action);
            Assert.Contains("-port = 8080", conf.Detail);
            Assert.Contains("+port = 9090", conf.Detail);
        }
        Assert.Contains("8080", File.ReadAllText(_mesh.RootOf(b, "/etc/app.conf")));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
