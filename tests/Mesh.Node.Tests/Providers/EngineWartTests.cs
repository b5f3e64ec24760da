using Mesh.Node.Converge;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>
/// What an operator expects of commands and shared paths across runs: a failed refresh is owed
/// until it succeeds, an unguarded command is not re-run (nor called drift) by every re-check,
/// and a path another manifest holds fails here instead of flip-flopping.
/// </summary>
public sealed class EngineWartTests : ProviderTestBase
{
    private static Manifest Notifying(string content) => ManifestParser.Parse($$"""
        manifest: app
        resources:
          - id: app-conf
            type: file
            path: /app.conf
            content: "{{content}}"
            notify: [restart]
          - id: restart
            type: exec
            command: "test -e restart-works && echo restarted >> restarts"
            refresh_only: true
        """, "t.yaml");

    private string Restarts => File.Exists(Root["restarts"]) ? File.ReadAllText(Root["restarts"]) : "";

    /// <summary>Each run with a fresh view of the data directory, as after a restart of the node.</summary>
    private ApplyContext Remembering() => Context with { Refreshes = new PendingRefreshes(Root["data/refresh"]) };

    [Fact]
    public void A_failed_refresh_only_exec_runs_again_on_the_next_run_until_it_succeeds_even_across_a_restart()
    {
        var engine = ApplyEngine.Default();
        var first = engine.Run(Notifying("port = 80"), Remembering(), apply: true);
        Assert.Equal(ResourceAction.Failed, first.Single(r => r.Id == "restart").Action);

        // Nothing changed since, but the restart is still owed: it runs (and fails) again.
        var second = engine.Run(Notifying("port = 80"), Remembering(), apply: true);
        Assert.Equal(ResourceAction.Unchanged, second.Single(r => r.Id == "app-conf").Action);
        Assert.Equal(ResourceAction.Failed, second.Single(r => r.Id == "restart").Action);

        File.WriteAllText(Root["restart-works"], "");
        var third = engine.Run(Notifying("port = 80"), Remembering(), apply: true);
        Assert.Equal(ResourceAction.Changed, third.Single(r => r.Id == "restart").Action);
        Assert.Equal("restarted\n", Restarts);

        // Done: the next run owes nothing.
        var fourth = engine.Run(Notifying("port = 80"), Remembering(), apply: true);
        Assert.All(fourth, r => Assert.Equal(ResourceAction.Unchanged, r.Action));
        Assert.Equal("restarted\n", Restarts);
    }

    [Fact]
    public void A_dry_run_shows_an_owed_refresh_and_leaves_it_owed()
    {
        var engine = ApplyEngine.Default();
        engine.Run(Notifying("port = 80"), Remembering(), apply: true);
        File.WriteAllText(Root["restart-works"], "");

        var plan = engine.Run(Notifying("port = 80"), Remembering(), apply: false);
        Assert.StartsWith("would run", plan.Single(r => r.Id == "restart").Message);
        Assert.Equal("", Restarts);
        Assert.Equal(ResourceAction.Changed, engine.Run(Notifying("port = 80"), Remembering(), apply: true).Single(r => r.Id == "restart").Action);
    }

    private static Manifest Unguarded(string content) => ManifestParser.Parse($$"""
        manifest: app
        resources:
          - id: app-conf
            type: file
            path: /app.conf
            content: "{{content}}"
            notify: [migrate]
          - id: migrate
            type: exec
            command: "echo migrated >> runs"
        """, "t.yaml");

    private int Runs => File.Exists(Root["runs"]) ? File.ReadAllLines(Root["runs"]).Length : 0;

    [Fact]
    public void An_unguarded_exec_runs_when_its_revision_is_applied_and_on_a_re_check_only_when_notified()
    {
        var engine = ApplyEngine.Default();
        engine.Run(Unguarded("v1"), Context, apply: true);
        Assert.Equal(1, Runs);

        var recheck = engine.Run(Unguarded("v1"), Context with { Recheck = true }, apply: true);
        Assert.Equal(1, Runs);
        Assert.All(recheck, r => Assert.Equal(ResourceAction.Unchanged, r.Action));
        Assert.Contains("no guard", recheck.Single(r => r.Id == "migrate").Message);

        // Drift of the file it follows: repaired, and the command runs once for it.
        File.WriteAllText(Root["app.conf"], "edited");
        var repaired = engine.Run(Unguarded("v1"), Context with { Recheck = true }, apply: true);
        Assert.Equal(2, Runs);
        Assert.Equal(ResourceAction.Changed, repaired.Single(r => r.Id == "migrate").Action);

        // Applying a revision (not a re-check) runs it, as before.
        engine.Run(Unguarded("v1"), Context, apply: true);
        Assert.Equal(3, Runs);
    }

    [Fact]
    public void An_unguarded_exec_that_failed_runs_again_on_re_checks_until_it_succeeds()
    {
        var manifest = ManifestParser.Parse("""
            manifest: app
            resources:
              - { id: migrate, type: exec, command: "test -e ready && echo migrated >> runs" }
            """, "t.yaml");
        var engine = ApplyEngine.Default();
        Assert.Equal(ResourceAction.Failed, engine.Run(manifest, Remembering(), apply: true).Single().Action);
        Assert.Equal(ResourceAction.Failed, engine.Run(manifest, Remembering() with { Recheck = true }, apply: true).Single().Action);

        File.WriteAllText(Root["ready"], "");
        Assert.Equal(ResourceAction.Changed, engine.Run(manifest, Remembering() with { Recheck = true }, apply: true).Single().Action);
        Assert.Equal(ResourceAction.Unchanged, engine.Run(manifest, Remembering() with { Recheck = true }, apply: true).Single().Action);
        Assert.Equal(1, Runs);
    }

    [Fact]
    public void A_resource_on_a_path_another_manifest_holds_fails_naming_both_and_leaves_the_file_alone()
    {
        File.WriteAllText(Root["shared.conf"], "the other's\n");
        var manifest = ManifestParser.Parse("""
            manifest: second
            resources:
              - { id: shared, type: file, path: /shared.conf, content: "mine\n" }
              - { id: own, type: file, path: /own.conf, content: "mine\n" }
            """, "second.yaml");

        var results = ApplyEngine.Default().Run(manifest, Context with { ManagedElsewhere = new Dictionary<string, string> { ["/shared.conf"] = "first" } }, apply: true);

        var shared = results.Single(r => r.Id == "shared");
        Assert.Equal(ResourceAction.Failed, shared.Action);
        Assert.Equal("/shared.conf is already managed by manifest 'first' on this node; 'second' cannot manage it too (remove it from one of the two)", shared.Message);
        Assert.Equal("the other's\n", File.ReadAllText(Root["shared.conf"]));
        Assert.Equal(ResourceAction.Created, results.Single(r => r.Id == "own").Action);
    }
}
