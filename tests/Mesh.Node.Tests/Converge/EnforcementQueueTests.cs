using System.Text.Json.Nodes;
using Mesh.Node.Content;
using Mesh.Node.Converge;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Converge;

/// <summary>The converger's decisions, played on the queue alone: no actor system, no host, a clock in the test's hand.</summary>
public class EnforcementQueueTests
{
    private static readonly NodeIdentity Web1 = new("web1", new HashSet<string> { "web" }, new Dictionary<string, string>());
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(5);
    /// <summary>A back-off of <see cref="Retry"/> at most (half of it at least, with jitter), for a minute.</summary>
    private static readonly FetchBackoff Backoff = new(TimeSpan.FromMinutes(1), Retry, Retry);
    private static readonly DateTime T0 = new(2026, 12, 3, 12, 0, 0, DateTimeKind.Utc);

    private static RevisionRecord Rev(string manifest, long wall, string[]? roles = null, bool deleted = false, string node = "a") =>
        new(manifest, new HybridTimestamp(wall, 0, node), deleted ? "" : $"hash-{manifest}-{wall}", 10, "tester", node, "", DateTimeOffset.UnixEpoch, "",
            new TargetSpec(roles ?? [], new Dictionary<string, string>(), []), null, Deleted: deleted);

    private static Manifest Body(string name, params string[] paths) =>
        new(name, TargetSpec.All, new JsonObject(), paths.Select(p => (ResourceSpec)new DirectoryResource(p.Trim('/').Replace('/', '-'), [], p, Ensure.Present, null, false)).ToArray());

    private static ApplyReport Report(RevisionRecord r, ApplyOutcome outcome = ApplyOutcome.Ok, int changed = 0) =>
        new("web1", r.Manifest, r.Version, r.Hash, outcome, changed, [], null, 1, DateTimeOffset.UnixEpoch);

    private static EnforcementQueue Queue(Func<RevisionRecord, string?>? refusal = null) => new(Web1, refusal ?? (_ => null), Backoff);

    [Fact]
    public void New_revisions_are_applied_oldest_first_and_only_those_that_target_this_node()
    {
        var queue = Queue();
        queue.Consider(Rev("b", 200), fromIndex: true);
        queue.Consider(Rev("a", 100), fromIndex: true);
        queue.Consider(Rev("db", 50, roles: ["db"]), fromIndex: true);

        var first = Assert.IsType<Work.Apply>(queue.Next(T0));
        Assert.Equal("a", first.Revision.Manifest);
        Assert.False(first.Fallback);
        queue.Applied(first.Revision, Body("a"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.Equal("b", Assert.IsType<Work.Apply>(queue.Next(T0)).Revision.Manifest);
        queue.Applied(Rev("b", 200), Body("b"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.Null(queue.Next(T0));
    }

    [Fact]
    public void A_fact_target_follows_this_node_s_facts_as_they_change_and_applies_again_when_it_selects_the_node_again()
    {
        var facts = new JsonObject { ["rack"] = "r12" };
        var queue = new EnforcementQueue(Web1, _ => null, Backoff, () => facts);
        var rack = Rev("rack", 100) with { Target = ManifestParser.ParseTarget("{facts: {rack: r12}}") };
        queue.Consider(rack, fromIndex: true);

        queue.Applied(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, Body("rack"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.Null(queue.Next(T0));
        Assert.Empty(queue.Progress().PendingFor([rack]));

        // The custom fact now says r13: the manifest no longer targets this node, and is not enforced.
        facts = new JsonObject { ["rack"] = "r13" };
        Assert.Null(queue.Next(T0));
        Assert.Empty(queue.Enforced);
        Assert.Empty(queue.Progress().PendingFor([rack]));

        // Back in r12: the same revision is applied again.
        facts = new JsonObject { ["rack"] = "r12" };
        Assert.Equal(rack, Assert.IsType<Work.Apply>(queue.Next(T0)).Revision);
        Assert.Equal(["rack"], queue.Progress().PendingFor([rack]));
    }

    [Fact]
    public void A_revision_that_could_not_be_fetched_waits_its_back_off_while_others_go_on()
    {
        var queue = Queue();
        var web = Rev("web", 100);
        queue.Consider(web, fromIndex: true);
        queue.Unfetched(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, "origin silent", failure: false, T0);

        queue.Consider(Rev("motd", 300), fromIndex: true);
        Assert.Equal("motd", Assert.IsType<Work.Apply>(queue.Next(T0 + Retry / 4)).Revision.Manifest);
        queue.Applied(Rev("motd", 300), Body("motd"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.Null(queue.Next(T0 + Retry / 4));
        Assert.Equal(web, Assert.IsType<Work.Apply>(queue.Next(T0 + Retry)).Revision);
    }

    [Fact]
    public void A_head_heard_twice_is_handled_once_and_an_older_one_never_replaces_it()
    {
        var queue = Queue();
        Assert.True(queue.Consider(Rev("web", 200), fromIndex: false));
        Assert.False(queue.Consider(Rev("web", 200), fromIndex: true));
        Assert.False(queue.Consider(Rev("web", 100), fromIndex: true));
        Assert.Equal(200, Assert.IsType<Work.Apply>(queue.Next(T0)).Revision.Version.WallMs);
    }

    [Fact]
    public void On_a_tie_of_wall_time_and_counter_the_index_wins_and_an_announcement_never_does()
    {
        var fromA = Rev("web", 100, node: "a");
        var fromB = Rev("web", 100, node: "b");
        Assert.True(EnforcementQueue.Replaces(fromB, fromA, fromIndex: true));
        Assert.False(EnforcementQueue.Replaces(fromB, fromA, fromIndex: false));
        Assert.False(EnforcementQueue.Replaces(fromA, fromA, fromIndex: true));
    }

    [Fact]
    public void A_provisional_revision_announced_late_never_displaces_an_acknowledged_head_and_its_confirmation_is_no_new_work()
    {
        var queue = Queue();
        var @base = Rev("web", 100);
        var acknowledged = Rev("web", 200);
        var cutOff = Rev("web", 900, node: "c") with { Parent = @base.Version.ToString(), ProvisionalRank = Mesh.Node.Replication.Replicated.ProvisionalRankOver(@base) };
        Assert.True(queue.Consider(@base, fromIndex: true));
        Assert.True(queue.Consider(acknowledged, fromIndex: false));
        Assert.False(queue.Consider(cutOff, fromIndex: false));
        Assert.False(queue.Consider(cutOff, fromIndex: true));

        // Where nothing contradicts it, it replaces its parent; confirmed later, it is not applied again.
        var other = Queue();
        Assert.True(other.Consider(@base, fromIndex: true));
        Assert.True(other.Consider(cutOff, fromIndex: false));
        Assert.False(other.Consider(cutOff with { ProvisionalRank = 0 }, fromIndex: true));
        Assert.False(other.Consider(acknowledged, fromIndex: false));
    }

    [Fact]
    public void An_untrusted_head_is_rejected_once_and_when_nothing_is_enforced_the_newest_trusted_revision_stands_in()
    {
        var trusted = new HashSet<long> { 100, 200 };
        var queue = Queue(r => trusted.Contains(r.Version.WallMs) ? null : "unsigned");
        var head = Rev("web", 300);
        queue.Consider(head, fromIndex: true);

        var reject = Assert.IsType<Work.Reject>(queue.Next(T0));
        Assert.Equal("unsigned", reject.Reason);
        Assert.True(reject.LookForTrusted);
        Assert.Null(queue.Next(T0));

        Assert.True(queue.TrustedHistory(head, [Rev("web", 100), Rev("web", 200), head, Rev("web", 250)]));
        var standIn = Assert.IsType<Work.Apply>(queue.Next(T0));
        Assert.True(standIn.Fallback);
        Assert.Equal(200, standIn.Revision.Version.WallMs);
        queue.Applied(standIn.Revision, Body("web"), ApplyOutcome.Ok, fallback: true, T0);
        Assert.Equal(200, queue.Enforced["web"].Revision.Version.WallMs);
        Assert.Null(queue.Next(T0));
    }

    [Fact]
    public void A_stand_in_is_moot_once_the_head_moved_on()
    {
        var queue = Queue(r => r.Version.WallMs == 300 ? "unsigned" : null);
        var rejected = Rev("web", 300);
        queue.Consider(rejected, fromIndex: true);
        Assert.IsType<Work.Reject>(queue.Next(T0));
        queue.Consider(Rev("web", 400), fromIndex: true);
        Assert.False(queue.TrustedHistory(rejected, [Rev("web", 100)]));
        Assert.Equal(400, Assert.IsType<Work.Apply>(queue.Next(T0)).Revision.Version.WallMs);
    }

    [Fact]
    public void A_rejected_head_over_an_enforced_revision_keeps_that_revision_enforced()
    {
        var queue = Queue(r => r.Version.WallMs == 200 ? "signed by an unknown key" : null);
        queue.Consider(Rev("web", 100), fromIndex: true);
        queue.Applied(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, Body("web", "/srv"), ApplyOutcome.Ok, fallback: false, T0);
        queue.Consider(Rev("web", 200), fromIndex: true);

        Assert.False(Assert.IsType<Work.Reject>(queue.Next(T0)).LookForTrusted);
        queue.RecheckAll();
        var recheck = Assert.IsType<Work.Recheck>(queue.Next(T0));
        Assert.Equal(100, Assert.Single(recheck.Due).Revision.Version.WallMs);
    }

    [Fact]
    public void A_tombstone_stops_enforcement_and_says_whether_anything_was_enforced()
    {
        var queue = Queue();
        queue.Consider(Rev("web", 100), fromIndex: true);
        queue.Applied(Rev("web", 100), Body("web"), ApplyOutcome.Ok, fallback: false, T0);
        queue.Consider(Rev("web", 200, deleted: true), fromIndex: true);
        Assert.True(Assert.IsType<Work.Stop>(queue.Next(T0)).WasEnforced);
        Assert.Empty(queue.Enforced);

        queue.Consider(Rev("never", 300, deleted: true), fromIndex: true);
        Assert.False(Assert.IsType<Work.Stop>(queue.Next(T0)).WasEnforced);
        Assert.Null(queue.Next(T0));
    }

    [Fact]
    public void Rechecks_come_after_new_revisions_and_only_for_what_is_enforced_and_still_targets_this_node()
    {
        var queue = Queue();
        queue.Consider(Rev("a", 100), fromIndex: true);
        queue.Applied(Rev("a", 100), Body("a"), ApplyOutcome.Ok, fallback: false, T0);
        queue.Consider(Rev("b", 100), fromIndex: true);
        queue.Applied(Rev("b", 100), Body("b"), ApplyOutcome.Ok, fallback: false, T0);
        queue.RecheckAll();
        queue.RecheckOne("unknown");
        queue.Consider(Rev("c", 300), fromIndex: true);
        Assert.Equal("c", Assert.IsType<Work.Apply>(queue.Next(T0)).Revision.Manifest);
        queue.Applied(Rev("c", 300), null, ApplyOutcome.Failed, fallback: false, T0);

        // b now targets the database nodes only: no longer enforced here.
        queue.Consider(Rev("b", 400, roles: ["db"]), fromIndex: true);
        var recheck = Assert.IsType<Work.Recheck>(queue.Next(T0));
        Assert.Equal(["a"], recheck.Due.Select(e => e.Revision.Manifest));
        Assert.DoesNotContain("b", queue.Enforced.Keys);
        Assert.Null(queue.Next(T0));
    }

    [Fact]
    public void A_recheck_is_news_only_when_it_repaired_something_or_the_outcome_changed()
    {
        var queue = Queue();
        var web = Rev("web", 100);
        queue.Consider(web, fromIndex: true);
        queue.Applied(web, Body("web"), ApplyOutcome.Ok, fallback: false, T0);

        Assert.Equal(RecheckVerdict.Quiet, queue.Rechecked(Report(web)));
        Assert.Equal(RecheckVerdict.Report, queue.Rechecked(Report(web, changed: 2)));
        Assert.Equal(RecheckVerdict.Report, queue.Rechecked(Report(web, ApplyOutcome.Failed)));
        Assert.Equal(RecheckVerdict.Quiet, queue.Rechecked(Report(web, ApplyOutcome.Failed)));
        Assert.Equal(RecheckVerdict.Stale, queue.Rechecked(Report(Rev("web", 50))));
    }

    [Fact]
    public void Drift_repaired_on_a_stand_in_is_not_reported_as_the_heads()
    {
        var queue = Queue(r => r.Version.WallMs == 300 ? "unsigned" : null);
        var head = Rev("web", 300);
        queue.Consider(head, fromIndex: true);
        queue.Next(T0);
        queue.TrustedHistory(head, [Rev("web", 100)]);
        var standIn = Assert.IsType<Work.Apply>(queue.Next(T0)).Revision;
        queue.Applied(standIn, Body("web"), ApplyOutcome.Ok, fallback: true, T0);
        Assert.Equal(RecheckVerdict.UnderRejectedHead, queue.Rechecked(Report(standIn, changed: 1)));
    }

    [Fact]
    public void A_purge_spares_the_paths_of_every_other_enforced_manifest()
    {
        var queue = Queue();
        queue.Applied(Rev("a", 100), Body("a", "/srv/a"), ApplyOutcome.Ok, fallback: false, T0);
        queue.Applied(Rev("b", 100), Body("b", "/srv/b", "/srv/c"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.Equal(new[] { "/srv/b", "/srv/c" }, queue.ManagedPathsExcept("a").Keys.Order());
        Assert.Equal(new[] { "/srv/a" }, queue.ManagedPathsExcept("b").Keys);
    }

    [Fact]
    public void A_path_two_manifests_declare_belongs_to_the_one_enforced_first_until_it_lets_it_go()
    {
        var queue = Queue();
        queue.Applied(Rev("a", 100), Body("a", "/srv/shared", "/srv/a"), ApplyOutcome.Ok, fallback: false, T0);
        // b comes second: the shared path is a's, so b's resource on it fails (the engine says why) ...
        Assert.Equal("a", queue.ManagedPathsExcept("b")["/srv/shared"]);
        queue.Applied(Rev("b", 200), Body("b", "/srv/shared", "/srv/b"), ApplyOutcome.Failed, fallback: false, T0);
        // ... and a's re-checks keep it: the two never take turns at it.
        Assert.False(queue.ManagedPathsExcept("a").ContainsKey("/srv/shared"));
        Assert.Equal("a", queue.ManagedPathsExcept("b")["/srv/shared"]);
        Assert.Equal("b", queue.ManagedPathsExcept("a")["/srv/b"]);

        // A new revision of a without it lets it go: b holds it from then on.
        queue.Consider(Rev("a", 300), fromIndex: true);
        queue.Applied(Rev("a", 300), Body("a", "/srv/a"), ApplyOutcome.Ok, fallback: false, T0);
        Assert.False(queue.ManagedPathsExcept("b").ContainsKey("/srv/shared"));
        Assert.Equal("b", queue.ManagedPathsExcept("a")["/srv/shared"]);
    }

    [Fact]
    public void Caught_up_means_every_head_that_targets_this_node_was_applied_failed_rejected_deleted_or_is_backing_off()
    {
        var queue = Queue(r => r.Manifest == "untrusted" ? "unsigned" : null);
        RevisionRecord[] index =
        [
            Rev("ok", 100), Rev("broken", 110), Rev("untrusted", 120), Rev("gone", 130, deleted: true), Rev("far", 140), Rev("db", 150, roles: ["db"]),
        ];
        // Nothing heard yet: every head for this node is pending, the db-only one never is.
        Assert.Equal(new[] { "broken", "far", "gone", "ok", "untrusted" }, queue.Progress().PendingFor(index));

        foreach (var head in index) queue.Consider(head, fromIndex: true);
        queue.Applied(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, Body("ok"), ApplyOutcome.Ok, fallback: false, T0);
        queue.Applied(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, null, ApplyOutcome.Failed, fallback: false, T0);
        Assert.IsType<Work.Reject>(queue.Next(T0));
        Assert.IsType<Work.Stop>(queue.Next(T0));
        var far = Assert.IsType<Work.Apply>(queue.Next(T0)).Revision;
        // Being pulled or applied is not dealt with yet.
        Assert.Equal(new[] { "far" }, queue.Progress().PendingFor(index));
        queue.Unfetched(far, "origin silent", failure: false, T0);
        Assert.Empty(queue.Progress().PendingFor(index));

        // A newer head in the index is pending again until it is dealt with.
        Assert.Equal(new[] { "ok" }, queue.Progress().PendingFor([Rev("ok", 200)]));
    }

    [Fact]
    public void A_head_heard_of_by_announcement_before_the_index_has_it_counts_for_the_older_head()
    {
        var queue = Queue();
        var announced = Rev("web", 300);
        queue.Consider(announced, fromIndex: false);
        queue.Applied(Assert.IsType<Work.Apply>(queue.Next(T0)).Revision, Body("web"), ApplyOutcome.Ok, fallback: false, T0);

        Assert.Empty(queue.Progress().PendingFor([Rev("web", 200)]));
        // Same wall time and counter, another writer: the index's choice is still to be applied.
        Assert.Equal(new[] { "web" }, queue.Progress().PendingFor([Rev("web", 300, node: "b")]));
    }

    [Fact]
    public void A_body_not_fetched_yet_is_pending_with_its_reason_until_the_deadline_and_failed_after_it_naming_the_deadline()
    {
        var queue = Queue();
        queue.Consider(Rev("web", 100), fromIndex: true);
        var web = Assert.IsType<Work.Apply>(queue.Next(T0)).Revision;

        var first = queue.Unfetched(web, "waiting for the body: origin a did not answer within 5s at byte 0", failure: false, T0 + TimeSpan.FromSeconds(5));
        Assert.Equal(ApplyOutcome.Pending, first.Outcome);
        Assert.True(first.Report);
        Assert.StartsWith("waiting for the body: origin a did not answer within 5s at byte 0; retrying until 12:01:00 UTC", first.Reason);
        Assert.Equal(T0 + Backoff.Deadline, first.Deadline);

        // The same reason again is not news; a new one is.
        Assert.False(queue.Unfetched(web, "waiting for the body: origin a did not answer within 5s at byte 0", failure: false, T0 + TimeSpan.FromSeconds(20)).Report);
        var changed = queue.Unfetched(web, "waiting for the body: origin a did not answer within 5s at byte 0; 2 peers do not have it yet", failure: false, T0 + TimeSpan.FromSeconds(30));
        Assert.Equal((ApplyOutcome.Pending, true), (changed.Outcome, changed.Report));

        var late = queue.Unfetched(web, "waiting for the body: origin a did not answer within 5s at byte 0", failure: false, T0 + Backoff.Deadline);
        Assert.Equal((ApplyOutcome.Failed, true), (late.Outcome, late.Report));
        Assert.Contains("fetch deadline of 60s", late.Reason);
        Assert.Contains("still trying every 5s", late.Reason);
        // Failed once is said once; the node keeps trying, at the longest back-off.
        var again = queue.Unfetched(web, "waiting for the body: origin a does not have it", failure: false, T0 + Backoff.Deadline + Retry);
        Assert.Equal((ApplyOutcome.Failed, false), (again.Outcome, again.Report));
        Assert.Equal(Backoff.Cap, again.Delay);
        Assert.Equal(web, Assert.IsType<Work.Apply>(queue.Next(T0 + Backoff.Deadline + Retry * 2)).Revision);
    }

    [Fact]
    public void Bytes_that_match_the_hash_from_no_peer_are_a_failure_at_once()
    {
        var queue = Queue();
        queue.Consider(Rev("web", 100), fromIndex: true);
        var web = Assert.IsType<Work.Apply>(queue.Next(T0)).Revision;

        var retry = queue.Unfetched(web, "waiting for the body: origin a sent bytes that do not match the hash", failure: true, T0);

        Assert.Equal((ApplyOutcome.Failed, true), (retry.Outcome, retry.Report));
    }

    [Fact]
    public void Each_revision_has_its_own_fetch_deadline_counted_from_the_first_try()
    {
        var queue = Queue();
        queue.Consider(Rev("web", 100), fromIndex: true);
        var old = Assert.IsType<Work.Apply>(queue.Next(T0)).Revision;
        queue.Unfetched(old, "origin silent", failure: false, T0);

        var later = T0 + Backoff.Deadline - TimeSpan.FromSeconds(1);
        queue.Consider(Rev("web", 200), fromIndex: true);
        var newer = Assert.IsType<Work.Apply>(queue.Next(later)).Revision;
        var retry = queue.Unfetched(newer, "origin silent", failure: false, later + TimeSpan.FromSeconds(10));

        Assert.Equal(ApplyOutcome.Pending, retry.Outcome);
        Assert.Equal(later + Backoff.Deadline, retry.Deadline);
    }

    [Fact]
    public void The_back_off_doubles_from_half_a_second_to_ten_seconds_with_jitter()
    {
        var backoff = FetchBackoff.Until(TimeSpan.FromMinutes(5));
        var random = new Random(11);
        for (var i = 0; i < 50; i++)
        {
            Assert.InRange(backoff.Delay(1, random), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500));
            Assert.InRange(backoff.Delay(3, random), TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(2000));
            Assert.InRange(backoff.Delay(40, random), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        }
    }
}
