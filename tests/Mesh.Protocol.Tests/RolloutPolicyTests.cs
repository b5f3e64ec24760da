using Mesh.Protocol.Manifests;
using static Mesh.Protocol.Tests.Parsing;

namespace Mesh.Protocol.Tests;

/// <summary>The manifest's rollout: section: read strictly, kept in the canonical form, overridable by a push's flags.</summary>
public class RolloutPolicyTests
{
    private const string Full = """
        manifest: web
        resources:
          - { id: f, type: file, path: /srv/web/index.html, content: "v2\n" }
        rollout:
          batches: [1, 50%, 100%]
          max_failures: 1
          pause: 30s
          canary: { nodes: [web-1], pause: manual }
          on_failure: halt
          node_timeout: 2m
          steps:
            drain: echo disable server web/$MESH_NODE | socat stdio /run/haproxy.sock
            health:
              - { http: "http://127.0.0.1:8080/health", body: ok, timeout: 2s, retries: 3, settle: 1s }
              - { tcp: "127.0.0.1:8080" }
              - { command: "test -f /srv/web/index.html" }
            undrain: { command: "echo enable", timeout: 10s }
        """;

    [Fact]
    public void A_full_section_is_read_with_every_field()
    {
        var policy = Parse(Full).Rollout!;
        Assert.Equal(["1", "50%", "100%"], policy.Batches.Select(b => b.ToString()));
        Assert.Equal(new RolloutAmount(1, false), policy.MaxFailures);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.Pause);
        Assert.True(policy.ManualAfter(0));
        Assert.False(policy.ManualAfter(1));
        Assert.Equal(TimeSpan.FromSeconds(30), policy.PauseAfter(1));
        Assert.Equal(["web-1"], policy.Canary!.Nodes);
        Assert.Equal(RolloutFailure.Halt, policy.OnFailure);
        Assert.Equal(TimeSpan.FromMinutes(2), policy.NodeTimeout);
        Assert.Contains("disable server", policy.Drain!.Command);
        Assert.Equal(RolloutPolicy.DefaultCommandTimeout, policy.Drain.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(10), policy.Undrain!.Timeout);
        Assert.Equal([HealthKind.Http, HealthKind.Tcp, HealthKind.Command], policy.Health.Select(h => h.Kind));
        Assert.Equal(("ok", 3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1)),
            (policy.Health[0].Body, policy.Health[0].Retries, policy.Health[0].Timeout, policy.Health[0].Settle));
    }

    [Fact]
    public void The_section_is_part_of_the_canonical_form_and_reads_back_the_same()
    {
        var manifest = Parse(Full);
        var bytes = CanonicalForm.ToBytes(manifest);
        var again = CanonicalForm.FromBytes(bytes, "canonical");
        Assert.Equal(bytes, CanonicalForm.ToBytes(again));
        Assert.NotEqual(CanonicalForm.Hash(bytes), CanonicalForm.Hash(CanonicalForm.ToBytes(manifest with { Rollout = null })));
        Assert.Equal(manifest.Rollout!.Health.Length, again.Rollout!.Health.Length);
    }

    [Fact]
    public void A_manifest_without_the_section_has_no_rollout_and_unchanged_canonical_bytes()
    {
        var manifest = Parse("manifest: web\nresources: []\n");
        Assert.Null(manifest.Rollout);
        Assert.DoesNotContain("rollout", System.Text.Encoding.UTF8.GetString(CanonicalForm.ToBytes(manifest)));
    }

    private static string WithRollout(string body) => "manifest: web\nrollout:\n" + body;

    [Fact]
    public void An_unknown_step_is_refused_at_its_line()
    {
        var error = OnlyErrorIn(WithRollout("  steps:\n    drain: x\n    reboot: now\n"));
        error.AssertAt(5, 5, "rollout.steps.reboot", "unknown step 'reboot' (known: drain, health, undrain");
    }

    [Fact]
    public void A_batch_list_that_does_not_end_at_100_percent_is_refused_at_its_last_entry()
    {
        var error = OnlyErrorIn(WithRollout("  batches: [1, 10%, 50%]\n"));
        error.AssertAt(3, 21, "rollout.batches[2]", "must end at 100%");
    }

    [Fact]
    public void Batches_that_do_not_grow_are_refused()
    {
        var error = OnlyErrorIn(WithRollout("  batches: [50%, 20%, 100%]\n"));
        error.AssertAt(3, 18, "rollout.batches[1]", "does not grow");
    }

    [Fact]
    public void A_health_url_that_is_not_http_is_refused_at_its_line()
    {
        var error = OnlyErrorIn(WithRollout("  steps:\n    health:\n      - { http: \"ftp://host/x\" }\n"));
        error.AssertAt(5, 17, "rollout.steps.health[0].http", "not an http:// or https:// URL");
    }

    [Fact]
    public void Max_failures_a_whole_batch_could_reach_is_refused()
    {
        var error = OnlyErrorIn(WithRollout("  batches: [2, 4, 100%]\n  max_failures: 3\n"));
        error.AssertAt(4, 17, "rollout.max_failures", "above the largest batch (2 nodes)");
    }

    [Theory]
    [InlineData("  on_failure: retry\n", "rollout.on_failure", "not one of: rollback, halt")]
    [InlineData("  pause: soon\n", "rollout.pause", "'soon' is not a duration")]
    [InlineData("  batches: [0, 100%]\n", "rollout.batches[0]", "not a number of nodes (1 or more)")]
    [InlineData("  steps:\n    health:\n      - { tcp: \"host\" }\n", "rollout.steps.health[0].tcp", "not host:port")]
    [InlineData("  steps:\n    health:\n      - { command: x, http: \"http://a\" }\n", "rollout.steps.health[0]", "more than one check")]
    [InlineData("  canary: {}\n", "rollout.canary", "names no canary")]
    [InlineData("  batch: [100%]\n", "rollout.batch", "unknown field")]
    public void Bad_values_are_refused_naming_the_field(string body, string field, string says)
    {
        var error = OnlyErrorIn(WithRollout(body));
        Assert.Equal(field, error.Field);
        Assert.True(error.Line >= 3, error.ToString());
        Assert.Contains(says, error.Message);
    }

    [Fact]
    public void Push_flags_override_the_section_and_errors_name_the_option()
    {
        var policy = Parse(Full).Rollout!.Override("2,4,100%", "1", "manual");
        Assert.Equal(["2", "4", "100%"], policy.Batches.Select(b => b.ToString()));
        Assert.True(policy.ManualPause);
        Assert.Equal("web-1", policy.Canary!.Nodes[0]); // the rest of the section stays

        var bad = Assert.Throws<ManifestException>(() => RolloutPolicy.Default.Override("1,50%", null, null)).Errors;
        Assert.Equal("--batch", Assert.Single(bad).Source);
        var tooMany = Assert.Throws<ManifestException>(() => RolloutPolicy.Default.Override("2,4,100%", "3", null)).Errors;
        Assert.Equal("--max-failures", Assert.Single(tooMany).Source);
        Assert.Equal("--pause", Assert.Single(Assert.Throws<ManifestException>(() => RolloutPolicy.Default.Override(null, null, "later")).Errors).Source);
    }

    [Fact]
    public void Cumulative_amounts_round_up_and_stop_at_the_fleet()
    {
        Assert.Equal(1, new RolloutAmount(10, true).Of(6));
        Assert.Equal(3, new RolloutAmount(50, true).Of(6));
        Assert.Equal(6, new RolloutAmount(100, true).Of(6));
        Assert.Equal(6, new RolloutAmount(10, false).Of(6));
    }
}
