using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

[Collection(ClusterCollection.Name)]
public sealed class SpreadingTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();

    private const string Motd = """
        manifest: motd
        resources:
          - { id: etc, type: directory, path: /etc }
          - { id: motd, type: file, path: /etc/motd, content: "hello\n", requires: [etc] }
        """;

    private const string Web = """
        manifest: web
        target: { roles: [web] }
        resources:
          - { id: srv, type: directory, path: /srv, mode: "0750" }
          - { id: conf, type: file, path: /srv/web.conf, content: "port = 80\n", mode: "0640", requires: [srv] }
        """;

    private const string Prod = """
        manifest: prod
        target: { labels: { env: prod } }
        resources:
          - { id: flag, type: file, path: /prod }
        """;

    private static PushRequest Push(params string[] manifests) =>
        new(manifests.Select((m, i) => new ManifestFile($"m{i}.yaml", m)).ToArray(), "test", "tester");

    /// <summary>Waits until the given node has an ok report for the head revision of the manifest, as seen from <paramref name="observer"/>.</summary>
    private static Task<NodeStatus> AppliedOk(MeshNode observer, string node, string manifest) =>
        Eventually.Value(async () => (await observer.Queries.StatusAsync(manifest)).Manifests.FirstOrDefault(s => s.Node == node && s.State == "ok"),
            $"{node} applied {manifest} (seen from {observer.Settings.Name})");

    [Fact]
    public async Task Push_on_one_node_is_applied_by_every_targeted_node_and_no_other()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b", roles: ["web"]);
        var c = _mesh.Start("c", labels: new Dictionary<string, string> { ["env"] = "prod" });
        await _mesh.Converged();

        var response = await b.Revisions.PushAsync(Push(Motd, Web, Prod));

        Assert.Equal(["a", "b", "c"], response.Revisions.Single(r => r.Revision.Manifest == "motd").Targets);
        Assert.Equal(["b"], response.Revisions.Single(r => r.Revision.Manifest == "web").Targets);
        Assert.Equal(["c"], response.Revisions.Single(r => r.Revision.Manifest == "prod").Targets);
        foreach (var node in new[] { "a", "b", "c" }) await AppliedOk(b, node, "motd");
        await AppliedOk(b, "b", "web");
        await AppliedOk(b, "c", "prod");

        foreach (var n in new[] { a, b, c }) Assert.Equal("hello\n", File.ReadAllText(_mesh.RootOf(n, "/etc/motd")));
        Assert.Equal("port = 80\n", File.ReadAllText(_mesh.RootOf(b, "/srv/web.conf")));
        Assert.True(File.Exists(_mesh.RootOf(c, "/prod")));
        Assert.False(Directory.Exists(_mesh.RootOf(a, "/srv")));
        Assert.False(Directory.Exists(_mesh.RootOf(c, "/srv")));
        Assert.False(File.Exists(_mesh.RootOf(a, "/prod")));
        Assert.False(File.Exists(_mesh.RootOf(b, "/prod")));
    }

    [Fact]
    public async Task Without_any_announcement_the_replicated_index_still_delivers_the_change()
    {
        // No node publishes or subscribes to the change topic: every announcement is "lost".
        var a = _mesh.Start("a", announce: false);
        var b = _mesh.Start("b", announce: false);
        var c = _mesh.Start("c", announce: false);
        await _mesh.Converged();

        await b.Revisions.PushAsync(Push(Motd));

        foreach (var node in new[] { "a", "b", "c" }) await AppliedOk(a, node, "motd");
        foreach (var n in new[] { a, b, c }) Assert.True(File.Exists(_mesh.RootOf(n, "/etc/motd")));
    }

    [Fact]
    public async Task A_node_that_joins_later_configures_itself_from_what_the_mesh_holds()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        await a.Revisions.PushAsync(Push(Motd, Web));
        await AppliedOk(a, "b", "motd");

        // The origin of the revisions goes away: the late joiner must pull the body from b.
        var late = _mesh.Start("late", roles: ["web"], seed: b);
        await _mesh.Converged();

        await AppliedOk(b, "late", "motd");
        await AppliedOk(b, "late", "web");
        Assert.Equal("port = 80\n", File.ReadAllText(_mesh.RootOf(late, "/srv/web.conf")));
    }

    [Fact]
    public async Task Every_node_sees_every_report_and_a_new_revision_replaces_the_old()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();

        var first = await a.Revisions.PushAsync(Push(Motd));
        await AppliedOk(b, "a", "motd");
        await AppliedOk(b, "b", "motd");

        var second = await b.Revisions.PushAsync(Push(Motd.Replace("hello", "bye")));
        Assert.Equal(first.Revisions[0].Revision.Version.ToString(), second.Revisions[0].Revision.Parent);
        Assert.True(second.Revisions[0].Revision.Version > first.Revisions[0].Revision.Version);
        await Eventually.True(() => File.Exists(_mesh.RootOf(a, "/etc/motd")) && File.ReadAllText(_mesh.RootOf(a, "/etc/motd")) == "bye\n",
            "a applies the second revision");
        var status = await AppliedOk(a, "a", "motd");
        Assert.Equal(second.Revisions[0].Revision.Version, status.Report!.Version);
        Assert.Equal(1, status.Report.Changed);
    }

    [Fact]
    public async Task Pushing_the_same_content_again_makes_no_new_revision()
    {
        var a = _mesh.Start("a");
        await _mesh.Converged();

        var first = await a.Revisions.PushAsync(Push(Motd));
        var again = await a.Revisions.PushAsync(Push("# same meaning, other spelling\n" + Motd));

        Assert.True(again.Revisions[0].Unchanged);
        Assert.Equal(first.Revisions[0].Revision.Version, again.Revisions[0].Revision.Version);
    }

    [Fact]
    public async Task A_failed_resource_is_reported_with_its_cause_and_its_dependents_skipped()
    {
        var a = _mesh.Start("a");
        await _mesh.Converged();
        const string broken = """
            manifest: broken
            resources:
              - { id: orphan, type: file, path: /missing/dir/file, content: x }
              - { id: child, type: file, path: /child, requires: [orphan] }
              - { id: fine, type: file, path: /fine }
            """;

        await a.Revisions.PushAsync(Push(broken));

        var status = await Eventually.Value(async () => (await a.Queries.StatusAsync("broken")).Manifests.FirstOrDefault(s => s.State == "failed"), "failure report");
        var results = status.Report!.Resources.ToDictionary(r => r.Id);
        Assert.Equal(ResourceAction.Failed, results["orphan"].Action);
        Assert.Contains("parent directory /missing/dir", results["orphan"].Message);
        Assert.Equal(ResourceAction.Skipped, results["child"].Action);
        Assert.Contains("orphan", results["child"].Message);
        Assert.Equal(ResourceAction.Created, results["fine"].Action);
        Assert.Contains("orphan", status.Report.Error);
    }

    [Fact]
    public async Task Hundreds_of_manifests_pushed_at_once_all_replicate()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        // ~500 records of ~400 bytes in one burst: more than a default 128 000-byte frame holds.
        var manifests = Enumerable.Range(0, 500)
            .Select(i => $"manifest: fleet-{i:D3}\ntarget: {{ nodes: [nobody] }}\nresources:\n  - {{ id: f, type: file, path: /f{i} }}\n")
            .ToArray();

        await a.Revisions.PushAsync(Push(manifests));

        await Eventually.True(() => b.Store.IndexAsync().Result.Count == 500, "b holds all 500 revisions", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_report_of_a_manifest_with_thousands_of_resources_stays_small_enough_to_replicate()
    {
        var a = _mesh.Start("a");
        var b = _mesh.Start("b");
        await _mesh.Converged();
        var resources = string.Concat(Enumerable.Range(0, 3000).Select(i => $"  - {{ id: file-{i}, type: file, path: /file-{i}, content: \"{i}\" }}\n"));

        await b.Revisions.PushAsync(Push($"manifest: big\ntarget: {{ nodes: [a] }}\nresources:\n{resources}"));

        var status = await AppliedOk(b, "a", "big");
        Assert.Equal(3000, status.Report!.Changed);
        Assert.Equal(ApplyReport.MaxListed, status.Report.Resources.Length);
        Assert.Equal(3000 - ApplyReport.MaxListed, status.Report.Omitted);
        Assert.Equal(3000, Directory.GetFiles(a.Settings.Root).Length);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _mesh.DisposeAsync();
}
