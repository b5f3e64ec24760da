using Mesh.Protocol.Signing;
using Mesh.Protocol.Tasks;

namespace Mesh.Protocol.Tests;

/// <summary>What a task may be, what its author's key signs, and which keys a node trusts for tasks.</summary>
public sealed class TaskSpecTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 1, 0, 0, TimeSpan.Zero);

    private static TaskSpec Spec(string[]? command = null, string? script = null, string target = "") =>
        new("20261204-010000-abcdef", command ?? (script is null ? ["uptime"] : null), script, target, Now, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1));

    [Fact]
    public void A_well_formed_task_has_no_problems()
    {
        Assert.Empty(Spec().Problems(Now));
        Assert.Empty(Spec(script: "echo hi").Problems(Now));
        Assert.Empty(Spec(target: "{roles: [web], labels: {env: prod}}").Problems(Now));
    }

    [Theory]
    [InlineData("neither", "give either a command")]
    [InlineData("both", "not both")]
    [InlineData("empty-list", "command: the list is empty")]
    [InlineData("blank-script", "script: empty")]
    [InlineData("bad-target", "--target: invalid target")]
    [InlineData("list-target", "--target: a target is a mapping")]
    [InlineData("ttl", "--ttl")]
    [InlineData("timeout", "--timeout")]
    [InlineData("batch", "--batch -1")]
    [InlineData("user", "--user 'root; rm'")]
    [InlineData("cwd", "--cwd 'tmp': must be an absolute path")]
    [InlineData("id", "id 'A/B'")]
    [InlineData("old", "replayed task")]
    [InlineData("secret", "--secret PW: not a sealed envelope")]
    public void Each_bad_field_is_named_with_why(string what, string says)
    {
        var spec = Spec();
        spec = what switch
        {
            "neither" => spec with { Command = null },
            "both" => spec with { Script = "true" },
            "empty-list" => spec with { Command = [] },
            "blank-script" => spec with { Command = null, Script = "  " },
            "bad-target" => spec with { Target = "{roles: [" },
            "list-target" => spec with { Target = "[web]" },
            "ttl" => spec with { Ttl = TimeSpan.FromDays(30) },
            "timeout" => spec with { Timeout = TimeSpan.Zero },
            "batch" => spec with { Batch = -1 },
            "user" => spec with { User = "root; rm" },
            "cwd" => spec with { WorkDir = "tmp" },
            "id" => spec with { Id = "A/B" },
            "old" => spec with { Issued = Now.AddHours(-1) },
            "secret" => spec with { Secrets = new() { ["PW"] = "hunter2" } },
            _ => throw new ArgumentException(what),
        };
        Assert.Contains(spec.Problems(Now), p => p.Contains(says, StringComparison.Ordinal));
    }

    [Fact]
    public void The_signature_covers_every_field_and_secrets_in_any_order_sign_the_same()
    {
        var spec = Spec() with { Secrets = new() { ["B"] = "mesh-sealed:v1:b", ["A"] = "mesh-sealed:v1:a" } };
        var reordered = spec with { Secrets = new() { ["A"] = "mesh-sealed:v1:a", ["B"] = "mesh-sealed:v1:b" } };
        Assert.Equal(spec.Statement(), reordered.Statement());
        foreach (var changed in new[]
                 {
                     spec with { Command = ["reboot"] }, spec with { Target = "{roles: [db]}" }, spec with { User = "nobody" },
                     spec with { Ttl = TimeSpan.FromDays(1) }, spec with { Batch = 2 }, spec with { WorkDir = "/tmp" }, spec with { Id = "other" },
                 })
            Assert.NotEqual(spec.Statement(), changed.Statement());
    }

    [Fact]
    public void A_node_with_a_trust_list_runs_only_tasks_signed_by_a_key_trusted_for_tasks()
    {
        using var alice = SigningKey.Generate();
        using var bob = SigningKey.Generate();
        using var carol = SigningKey.Generate();
        var statement = Spec().Statement();
        var trust = new TrustList([("alice", alice.Public, TrustPermission.Push | TrustPermission.Tasks), ("bob", bob.Public, TrustPermission.Push)]);

        Assert.Null(trust.TaskRefusal(RevisionSignature.Make(alice, statement), statement));
        Assert.Contains("a key this node does not trust for tasks", trust.TaskRefusal(RevisionSignature.Make(bob, statement), statement));
        Assert.Null(trust.Refusal(RevisionSignature.Make(bob, statement), statement));
        Assert.Contains("unknown key", trust.TaskRefusal(RevisionSignature.Make(carol, statement), statement));
        Assert.Contains("unsigned", trust.TaskRefusal(null, statement));
        Assert.Contains("altered after signing", trust.TaskRefusal(RevisionSignature.Make(alice, statement), Spec(["reboot"]).Statement()));

        // A key trusted for tasks only may not push; a list of push keys alone runs no task at all.
        var tasksOnly = new TrustList([("ops", carol.Public, TrustPermission.Tasks)]);
        Assert.Contains("does not trust for changes", tasksOnly.Refusal(RevisionSignature.Make(carol, statement), statement));
        Assert.NotNull(new TrustList([("bob", bob.Public)]).TaskRefusal(RevisionSignature.Make(bob, statement), statement));
        // No trust list at all: the quick start runs unsigned tasks, but never altered ones.
        Assert.Null(TrustList.Empty.TaskRefusal(null, statement));
        Assert.NotNull(TrustList.Empty.TaskRefusal(RevisionSignature.Make(alice, statement), Spec(["reboot"]).Statement()));
    }
}
