using Mesh.Node.Converge;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>Notifications through the whole engine: a change refreshes the resources it notifies, and only a change does.</summary>
public sealed class NotifyTests : ProviderTestBase
{
    private static Manifest Manifest(string content) => ManifestParser.Parse($$"""
        manifest: app
        resources:
          - id: app-conf
            type: file
            path: /app.conf
            content: "{{content}}"
            notify: [reload]
          - id: reload
            type: exec
            command: "echo reloaded >> reloads"
            refresh_only: true
        """, "t.yaml");

    private IReadOnlyList<ResourceResult> Apply(Manifest manifest) => ApplyEngine.Default().Run(manifest, new ApplyContext(Root.Path), apply: true);

    private int Reloads => File.Exists(Root["reloads"]) ? File.ReadAllLines(Root["reloads"]).Length : 0;

    [Fact]
    public void A_refresh_only_exec_runs_when_the_file_that_notifies_it_changes_and_only_then()
    {
        var first = Apply(Manifest("port = 80"));
        Assert.Equal(1, Reloads);
        Assert.Equal(
            [("app-conf", ResourceAction.Created), ("reload", ResourceAction.Changed)],
            first.Select(r => (r.Id, r.Action)));
        Assert.StartsWith("ran echo reloaded >> reloads: exit 0", first[1].Message);

        var second = Apply(Manifest("port = 80"));
        Assert.Equal(1, Reloads);
        Assert.All(second, r => Assert.Equal(ResourceAction.Unchanged, r.Action));

        var third = Apply(Manifest("port = 81"));
        Assert.Equal(2, Reloads);
        Assert.Equal(ResourceAction.Changed, third.Single(r => r.Id == "reload").Action);
    }

    [Fact]
    public void A_plan_says_the_exec_would_run_and_runs_nothing()
    {
        var plan = ApplyEngine.Default().Run(Manifest("port = 80"), new ApplyContext(Root.Path), apply: false);

        Assert.Equal("would run echo reloaded >> reloads", plan.Single(r => r.Id == "reload").Message);
        Assert.Equal(0, Reloads);
        Assert.False(File.Exists(Root["app.conf"]));
    }
}
