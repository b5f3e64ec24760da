using Akka.Cluster;
using Mesh.Node.Converge;
using Mesh.Node.Service;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Versioning;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Service;

/// <summary>Readiness decided from what was read: this member's status, the index and the converger's progress.</summary>
public class ReadinessTests
{
    private static readonly NodeIdentity Web1 = new("web1", new HashSet<string>(), new Dictionary<string, string>());

    private static RevisionRecord Rev(string manifest, long wall) =>
        new(manifest, new HybridTimestamp(wall, 0, "a"), $"hash-{manifest}", 10, "tester", "a", "", DateTimeOffset.UnixEpoch, "", TargetSpec.All, null);

    private static EnforcementProgress Handled(params RevisionRecord[] done) =>
        new(Web1, done.ToDictionary(r => r.Manifest, r => r.Version));

    [Fact]
    public void A_member_that_is_not_up_is_not_ready_whatever_it_applied()
    {
        var report = Readiness.Decide(MemberStatus.Joining, [], Handled());
        Assert.False(report.Ready);
        Assert.Equal("not Up: joining", report.Reason);
        Assert.Equal("joining", report.Member);
        Assert.Equal("not Up: weaklyup", Readiness.Decide(MemberStatus.WeaklyUp, [], Handled()).Reason);
    }

    [Fact]
    public void An_up_member_is_ready_once_its_converger_dealt_with_every_head_and_says_which_are_pending()
    {
        RevisionRecord[] index = [Rev("a", 1), Rev("b", 2), Rev("c", 3)];
        Assert.Equal("the converger has not started", Readiness.Decide(MemberStatus.Up, index, null).Reason);

        var waiting = Readiness.Decide(MemberStatus.Up, index, Handled(Rev("b", 2)));
        Assert.False(waiting.Ready);
        Assert.Equal(2, waiting.Pending);
        Assert.Equal("2 manifest(s) not yet applied: a, c", waiting.Reason);

        var ready = Readiness.Decide(MemberStatus.Up, index, Handled(index));
        Assert.True(ready.Ready);
        Assert.Null(ready.Reason);
        Assert.True(Readiness.Decide(MemberStatus.Up, [], Handled()).Ready);
    }

    [Fact]
    public void A_long_list_of_pending_manifests_is_cut_short()
    {
        var index = Enumerable.Range(1, 8).Select(i => Rev($"m{i}", i)).ToArray();
        Assert.Equal("8 manifest(s) not yet applied: m1, m2, m3, m4, m5, ...", Readiness.Decide(MemberStatus.Up, index, Handled()).Reason);
    }
}
