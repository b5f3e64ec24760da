using System.Text.Json.Nodes;
using Mesh.Node.Content;
using Mesh.Node.Facts;
using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>Where a file's bytes come from (template, source blob), what is kept of the old ones, and how a plan shows them.</summary>
public sealed class FileContentTests : ProviderTestBase
{
    private readonly FileProvider _provider = new();
    private readonly TempDir _data = new();

    private ApplyContext Node(JsonObject? vars = null) => new ApplyContext(Root.Path)
    {
        Manifest = "app",
        Vars = vars ?? new JsonObject { ["port"] = "8080", ["upstreams"] = new JsonArray("10.0.0.1", "10.0.0.2") },
        Facts = new NodeFacts("web-1", ["web"], new Dictionary<string, string> { ["env"] = "prod" },
            new JsonObject { ["hostname"] = "host-1", ["os"] = "debian", ["cpus"] = 4, ["memory_mb"] = 8192, ["addresses"] = new JsonArray("10.1.1.1") }),
        Content = new ContentStore(_data.Path),
        BackupDir = _data["backups"],
        BackupCount = 2,
    };

    private static FileResource Templated(string template) => new("conf", [], "/app.conf", Ensure.Present, null, null) { Template = template };

    [Fact]
    public void A_template_renders_with_the_manifests_vars_and_the_nodes_facts()
    {
        var spec = Templated("port = {{ vars.port }}\n{% for u in vars.upstreams %}server {{ u }}\n{% endfor %}name = {{ node.name }} cpus = {{ node.cpus }} env = {{ node.labels.env }}\n");

        Assert.Equal(ResourceAction.Created, _provider.CheckApply(spec, Node(), apply: true, CancellationToken.None).Action);

        Assert.Equal("port = 8080\nserver 10.0.0.1\nserver 10.0.0.2\nname = web-1 cpus = 4 env = prod\n", File.ReadAllText(Root["app.conf"]));
        Assert.Equal(ResourceAction.Unchanged, _provider.CheckApply(spec, Node(), apply: true, CancellationToken.None).Action);
    }

    [Fact]
    public void A_template_naming_an_undefined_value_fails_and_names_manifest_resource_and_value()
    {
        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(Templated("# header\nport = {{ vars.prot }}\n"), Node(), apply: true, CancellationToken.None));

        Assert.Contains("app/conf", e.Message);
        Assert.Contains("'vars.prot' (template line 2)", e.Message);
        Assert.False(File.Exists(Root["app.conf"]));
    }

    [Fact]
    public void A_template_cannot_reach_the_file_system()
    {
        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(Templated("{% include '/etc/passwd' %}"), Node(), apply: true, CancellationToken.None));
        Assert.DoesNotContain("root:", e.Message);
        Assert.False(File.Exists(Root["app.conf"]));
    }

    [Fact]
    public void A_source_file_comes_from_the_content_store_by_hash()
    {
        var context = Node();
        var bytes = new byte[] { 0, 1, 2, 255 };
        var hash = context.Content!.Put(bytes);
        var spec = new FileResource("bin", [], "/tool", Ensure.Present, null, Mode755) { SourceHash = hash };

        Assert.Equal(ResourceAction.Created, _provider.CheckApply(spec, context, apply: true, CancellationToken.None).Action);

        Assert.Equal(bytes, File.ReadAllBytes(Root["tool"]));
        Assert.Equal(Mode755, ModeOf("tool"));
    }

    [Fact]
    public void A_source_missing_from_the_store_is_a_clear_failure()
    {
        var spec = new FileResource("bin", [], "/tool", Ensure.Present, null, null) { SourceHash = new string('b', 64) };

        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(spec, Node(), apply: true, CancellationToken.None));
        Assert.Contains("not in this node's content store", e.Message);
    }

    [Fact]
    public void Replaced_content_is_kept_as_a_backup_up_to_the_configured_count()
    {
        var context = Node();
        foreach (var version in new[] { "v1", "v2", "v3", "v4" })
            _provider.CheckApply(FileSpec("/app.conf", version), context, apply: true, CancellationToken.None);

        var kept = Directory.GetFiles(Path.Combine(_data["backups"], "app", "app.conf")).Order().Select(File.ReadAllText).ToArray();
        Assert.Equal(["v2", "v3"], kept);
    }

    [Fact]
    public void A_dry_run_shows_a_unified_diff_and_changes_nothing()
    {
        File.WriteAllText(Root["app.conf"], "port = 80\nworkers = 2\n");

        var plan = _provider.CheckApply(FileSpec("/app.conf", "port = 8080\nworkers = 2\n"), Node(), apply: false, CancellationToken.None);

        Assert.Equal(ResourceAction.Changed, plan.Action);
        Assert.Equal("--- /app.conf\n+++ /app.conf\n-port = 80\n+port = 8080\n workers = 2\n", plan.Detail);
        Assert.Equal("port = 80\nworkers = 2\n", File.ReadAllText(Root["app.conf"]));
    }

    [Fact]
    public void Owner_and_group_are_enforced_by_name_from_the_roots_account_files()
    {
        Directory.CreateDirectory(Root["etc"]);
        File.WriteAllText(Root["etc/passwd"], "root:x:0:0::/root:/bin/sh\napp:x:4242:4343::/srv:/bin/false\n");
        File.WriteAllText(Root["etc/group"], "root:x:0:\napp:x:4343:\n");
        var spec = FileSpec("/owned", "x") with { Owner = "app", Group = "app" };

        Assert.Equal(ResourceAction.Created, _provider.CheckApply(spec, Node(), apply: true, CancellationToken.None).Action);
        Assert.Equal((4242, 4343), Posix.OwnerOf(Root["owned"]));

        Posix.Chown(Root["owned"], 0, 0);
        var repaired = _provider.CheckApply(spec, Node(), apply: true, CancellationToken.None);
        Assert.Equal(ResourceAction.Changed, repaired.Action);
        Assert.Equal("owner 0 -> app, group 0 -> app", repaired.Message);
        Assert.Equal((4242, 4343), Posix.OwnerOf(Root["owned"]));
    }

    [Fact]
    public void An_unknown_owner_is_a_clear_failure()
    {
        var e = Assert.Throws<ResourceException>(() => _provider.CheckApply(FileSpec("/f", "x") with { Owner = "nobody-here" }, Node(), apply: true, CancellationToken.None));
        Assert.Contains("user 'nobody-here' does not exist", e.Message);
    }

    public override void Dispose()
    {
        base.Dispose();
        _data.Dispose();
    }
}
