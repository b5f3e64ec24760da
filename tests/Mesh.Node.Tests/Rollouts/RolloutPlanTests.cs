using System.Text.Json.Nodes;
using Mesh.Node.Converge;
using Mesh.Node.Rollouts;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Rollouts;

/// <summary>What a rollout has reached, derived from its record and the nodes' steps: the same on every node, no actor system.</summary>
public class RolloutPlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Six = ["n1", "n2", "n3", "n4", "n5", "n6"];
    private static readonly HybridTimestamp V2 = new(2000, 0, "n1");

    private static RevisionRecord Rev(long wall, bool rolledOut = false) =>
        new("web", new HybridTimestamp(wall, 0, "n1"), $"hash-{wall}", 10, "tester", "n1", "", DateTimeOffset.UnixEpoch, "", TargetSpec.All, null, RolledOut: rolledOut);

    private static RolloutPolicy Policy(string batches = "2,4,100%", string max = "0", string pause = "0s") =>
        RolloutPolicy.Default.Override(batches, max, pause);

    private static RolloutRecord Record(RolloutPolicy? policy = null, string[]? nodes = null, RolloutControl control = RolloutControl.Run, int released = 0) =>
        new("web", V2, Rev(1000), policy ?? Policy(), nodes ?? Six, "tester", "n1", T0, control, released, V2, T0);

    private static Dictionary<string, RolloutStep> Steps(params (string Node, RolloutStage Stage, int Seconds)[] steps) =>
        steps.ToDictionary(s => s.Node, s => new RolloutStep("web", V2, s.Node, s.Stage, s.Stage == RolloutStage.Failed ? "health: exited 1" : null,
            T0.AddSeconds(s.Seconds), RolledBack: s.Stage == RolloutStage.Failed));

    [Fact]
    public void Batches_cut_the_frozen_order_at_cumulative_sizes()
    {
        Assert.Equal([["n1", "n2"], ["n3", "n4"], ["n5", "n6"]], RolloutPlan.Split(Record()));
        Assert.Equal([["n1"], ["n2", "n3"], ["n4", "n5", "n6"]], RolloutPlan.Split(Record(Policy("1,10%,50%,100%"))).Select(b => b.ToArray()));
    }

    [Fact]
    public void Only_the_first_batch_starts_and_the_next_starts_once_it_is_healthy()
    {
        var plan = new RolloutPlan(Record(), Steps(), T0);
        Assert.Equal((1, RolloutPhase.Running), (plan.Started, plan.Phase));
        Assert.Equal(RolloutTarget.NewWithSteps, plan.For("n1"));
        Assert.Equal(RolloutTarget.Previous, plan.For("n3"));

        plan = new RolloutPlan(Record(), Steps(("n1", RolloutStage.Healthy, 5), ("n2", RolloutStage.Checking, 4)), T0.AddSeconds(6));
        Assert.Equal(1, plan.Started);
        Assert.Equal(RolloutTarget.New, plan.For("n1"));

        plan = new RolloutPlan(Record(), Steps(("n1", RolloutStage.Healthy, 5), ("n2", RolloutStage.Healthy, 7)), T0.AddSeconds(8));
        Assert.Equal(2, plan.Started);
        Assert.Equal(RolloutTarget.NewWithSteps, plan.For("n3"));
        Assert.Equal(RolloutTarget.Previous, plan.For("n5"));
    }

    [Fact]
    public void A_pause_counts_from_the_previous_batch_s_last_report()
    {
        var steps = Steps(("n1", RolloutStage.Healthy, 5), ("n2", RolloutStage.Healthy, 7));
        var plan = new RolloutPlan(Record(Policy(pause: "30s")), steps, T0.AddSeconds(20));
        Assert.Equal(1, plan.Started);
        Assert.Equal(T0.AddSeconds(37), plan.NextChange);
        Assert.Equal(2, new RolloutPlan(Record(Policy(pause: "30s")), steps, T0.AddSeconds(37)).Started);
    }

    [Fact]
    public void More_failures_than_allowed_halt_the_rollout_and_later_batches_never_start()
    {
        var steps = Steps(("n1", RolloutStage.Healthy, 1), ("n2", RolloutStage.Healthy, 1), ("n3", RolloutStage.Failed, 3), ("n4", RolloutStage.Failed, 4));
        var plan = new RolloutPlan(Record(), steps, T0.AddSeconds(10));
        Assert.Equal(RolloutPhase.Halted, plan.Phase);
        Assert.Equal(2, plan.Failures);
        Assert.Equal(RolloutTarget.New, plan.For("n1"));
        Assert.Equal(RolloutTarget.Previous, plan.For("n3"));
        Assert.Equal(RolloutTarget.Previous, plan.For("n5"));
        Assert.True(plan.Over);
    }

    [Fact]
    public void A_failure_within_the_limit_lets_the_rollout_go_on_and_complete()
    {
        var policy = Policy(max: "1");
        var steps = Steps(("n1", RolloutStage.Healthy, 1), ("n2", RolloutStage.Failed, 1), ("n3", RolloutStage.Healthy, 2), ("n4", RolloutStage.Healthy, 2),
            ("n5", RolloutStage.Healthy, 3), ("n6", RolloutStage.Healthy, 3));
        var plan = new RolloutPlan(Record(policy), steps, T0.AddSeconds(4));
        Assert.Equal(RolloutPhase.Completed, plan.Phase);
        Assert.Equal(RolloutTarget.Previous, plan.For("n2"));
    }

    [Fact]
    public void Pause_and_abort_stop_new_batches_but_not_one_that_began()
    {
        var steps = Steps(("n1", RolloutStage.Healthy, 1), ("n2", RolloutStage.Healthy, 1), ("n3", RolloutStage.Applying, 2));
        var paused = new RolloutPlan(Record(control: RolloutControl.Pause), steps, T0.AddSeconds(3));
        Assert.Equal(RolloutPhase.Running, paused.Phase); // batch 2 began: it finishes
        Assert.Equal(RolloutTarget.NewWithSteps, paused.For("n4"));
        var before = new RolloutPlan(Record(control: RolloutControl.Pause), Steps(("n1", RolloutStage.Healthy, 1), ("n2", RolloutStage.Healthy, 1)), T0.AddSeconds(3));
        Assert.Equal(RolloutPhase.Paused, before.Phase);
        Assert.Equal(RolloutTarget.Previous, before.For("n3"));
        var aborted = new RolloutPlan(Record(control: RolloutControl.Abort), Steps(("n1", RolloutStage.Healthy, 1), ("n2", RolloutStage.Healthy, 1)), T0.AddSeconds(3));
        Assert.Equal(RolloutPhase.Aborted, aborted.Phase);
        Assert.Equal(RolloutTarget.Previous, aborted.For("n3"));
    }

    [Fact]
    public void A_manual_canary_waits_for_resume()
    {
        var policy = Policy("1,100%") with { Canary = new RolloutCanary(["n1"], [], null, Manual: true) };
        var steps = Steps(("n1", RolloutStage.Healthy, 1));
        var waiting = new RolloutPlan(Record(policy), steps, T0.AddMinutes(10));
        Assert.Equal(RolloutPhase.WaitingForResume, waiting.Phase);
        Assert.Equal(RolloutTarget.Previous, waiting.For("n2"));
        var resumed = new RolloutPlan(Record(policy, released: 1) with { ControlTime = T0.AddMinutes(10) }, steps, T0.AddMinutes(10));
        Assert.Equal(RolloutTarget.NewWithSteps, resumed.For("n2"));
    }

    [Fact]
    public void A_silent_node_is_skipped_after_node_timeout_and_listed()
    {
        var policy = Policy() with { NodeTimeout = TimeSpan.FromSeconds(60) };
        var steps = Steps(("n1", RolloutStage.Healthy, 1));
        var plan = new RolloutPlan(Record(policy), steps, T0.AddSeconds(30));
        Assert.Equal((1, T0.AddSeconds(60)), (plan.Started, plan.NextChange));
        plan = new RolloutPlan(Record(policy), steps, T0.AddSeconds(61));
        Assert.Equal(["n2"], plan.Skipped);
        Assert.Equal(2, plan.Started);
        // Back later, it still takes its turn.
        Assert.Equal(RolloutTarget.NewWithSteps, plan.For("n2"));
    }

    [Fact]
    public void A_node_that_joined_after_the_push_follows_the_outcome()
    {
        Assert.Equal(RolloutTarget.Previous, new RolloutPlan(Record(), Steps(), T0).For("n7"));
        var all = Steps(Six.Select(n => (n, RolloutStage.Healthy, 1)).ToArray());
        Assert.Equal(RolloutTarget.New, new RolloutPlan(Record(), all, T0.AddSeconds(2)).For("n7"));
    }

    [Fact]
    public void The_queue_holds_the_previous_revision_until_this_node_s_turn_then_runs_its_steps()
    {
        var book = new RolloutBook("n3");
        var self = new NodeIdentity("n3", new HashSet<string>(), new Dictionary<string, string>());
        var queue = new EnforcementQueue(self, _ => null, Mesh.Node.Content.FetchBackoff.Until(TimeSpan.FromMinutes(5)), rollouts: book);
        var previous = Rev(1000);
        queue.Consider(previous, fromIndex: true);
        var first = Assert.IsType<Work.Apply>(queue.Next(T0.UtcDateTime));
        Assert.Null(first.Rollout);
        queue.Applied(previous, Body(), ApplyOutcome.Ok, fallback: false, T0.UtcDateTime);

        // The new head says a rollout governs it: nothing until its record is known, then nothing until batch 2.
        var head = Rev(2000, rolledOut: true);
        queue.Consider(head, fromIndex: true);
        Assert.Null(queue.Next(T0.UtcDateTime));
        book.Put(Record());
        Assert.Null(queue.Next(T0.UtcDateTime));
        book.Put(new RolloutStep("web", V2, "n1", RolloutStage.Healthy, null, T0.AddSeconds(1)));
        book.Put(new RolloutStep("web", V2, "n2", RolloutStage.Healthy, null, T0.AddSeconds(2)));
        var turn = Assert.IsType<Work.Apply>(queue.Next(T0.AddSeconds(3).UtcDateTime));
        Assert.Equal((head, "web"), (turn.Revision, turn.Rollout!.Manifest));

        // Its health failed and it went back: it holds the previous revision, and is not asked again.
        book.Put(new RolloutStep("web", V2, "n3", RolloutStage.Failed, "health", T0.AddSeconds(4), RolledBack: true));
        queue.RolledOut("web", head, previous, Body(), ApplyOutcome.Failed);
        Assert.Null(queue.Next(T0.AddSeconds(5).UtcDateTime));
        Assert.Equal(previous, queue.Enforced["web"].Revision);
        Assert.Empty(queue.Progress().PendingFor([head]));
    }

    [Fact]
    public void The_book_keeps_the_newest_record_and_each_node_s_latest_step()
    {
        var book = new RolloutBook("n1");
        Assert.True(book.Put(Record()));
        Assert.False(book.Put(Record()));
        Assert.True(book.Put(Record(control: RolloutControl.Pause) with { Updated = new HybridTimestamp(3000, 0, "n4") }));
        Assert.False(book.Put(Record()));
        Assert.Equal(RolloutControl.Pause, book.RecordOf("web")!.Control);

        var applying = new RolloutStep("web", V2, "n1", RolloutStage.Applying, null, T0.AddSeconds(1));
        var healthy = applying with { Stage = RolloutStage.Healthy, Time = T0.AddSeconds(2) };
        Assert.True(book.Put(applying));
        Assert.True(book.Put(healthy));
        Assert.False(book.Put(applying)); // late
        Assert.False(book.Put(healthy)); // heard twice
        Assert.Equal(RolloutStage.Healthy, book.PlanOf("web", T0.AddSeconds(3))!.StepOf("n1")!.Stage);
    }

    private static Manifest Body() => new("web", TargetSpec.All, new JsonObject(), []);
}
