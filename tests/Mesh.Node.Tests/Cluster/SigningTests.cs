using Akka.Actor;
using Akka.DistributedData;
using Mesh.Node.Replication;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Signing;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Cluster;

/// <summary>Only signed changes are applied where a trust list is configured; the rest are reported rejected.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SigningTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly SigningKey _alice = SigningKey.Generate();
    private readonly SigningKey _mallory = SigningKey.Generate();

    private string TrustAlice => $"mesh.trusted-keys {{ alice = \"{_alice.Public.Spki}\" }}";

    private static PushRequest Motd(string text) =>
        new([new ManifestFile("motd.yaml", $"manifest: motd\nresources:\n  - {{ id: motd, type: file, path: /motd, content: \"{text}\" }}\n")], text, "tester");

    private static PushRequest Signed(PushRequest request, SigningKey key) =>
        request with { Signatures = PushSignatures.Sign(PreparedManifest.PrepareWhatParses(request.Manifests), key) };

    /// <summary>
    /// The node's report on a revision once it has the expected outcome (a fetch that timed out on
    /// a busy machine reports a retried failure first); times out naming the last report seen.
    /// </summary>
    private static async Task<ApplyReport> ReportOf(MeshNode node, RevisionRecord revision, ApplyOutcome expected)
    {
        ApplyReport? last = null;
        try
        {
            return await Eventually.Value(async () =>
                (await node.Store.ReportsOfAsync(node.Settings.Name)).TryGetValue("motd", out var r) && r.Version.Equals(revision.Version) && (last = r).Outcome == expected ? r : null,
                $"{node.Settings.Name} reports {expected} on {revision.Version}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last report: {last}");
        }
    }

    [Fact]
    public async Task Unsigned_and_untrusted_changes_are_rejected_where_a_trust_list_is_set_and_the_host_keeps_the_trusted_state()
    {
        var open = _mesh.Start("open");
        var strict = _mesh.Start("strict", extraHocon: TrustAlice);
        await _mesh.Converged();

        var good = (await open.Revisions.PushAsync(Signed(Motd("from alice"), _alice))).Revisions[0].Revision;
        await ReportOf(strict, good, ApplyOutcome.Ok);
        Assert.Equal(_alice.Public.Id, good.Signature!.KeyId);

        var unsigned = (await open.Revisions.PushAsync(Motd("unsigned"))).Revisions[0].Revision;
        var rejected = await ReportOf(strict, unsigned, ApplyOutcome.Rejected);
        Assert.Contains("unsigned", rejected.Error);
        await ReportOf(open, unsigned, ApplyOutcome.Ok);
        Assert.Equal("from alice", File.ReadAllText(_mesh.RootOf(strict, "/motd")));

        var foreign = (await open.Revisions.PushAsync(Signed(Motd("from mallory"), _mallory))).Revisions[0].Revision;
        var refused = await ReportOf(strict, foreign, ApplyOutcome.Rejected);
        Assert.Contains($"unknown key {_mallory.Public.Id}", refused.Error);
        Assert.Equal("from alice", File.ReadAllText(_mesh.RootOf(strict, "/motd")));
        // The report can arrive (on the report topic) before strict's replica of the index holds the revision it is about.
        await Eventually.True(() => strict.Queries.StatusAsync("motd").Result.Manifests.Single(s => s.Node == "strict").State == "rejected", "strict's status says rejected");

        // The last trusted revision is still enforced: a hand edit is repaired.
        File.WriteAllText(_mesh.RootOf(strict, "/motd"), "edited");
        await strict.Fleet.ConvergeAsync("strict");
        await Eventually.True(() => File.ReadAllText(_mesh.RootOf(strict, "/motd")) == "from alice", "strict repairs to the trusted content");
    }

    [Fact]
    public async Task A_node_restarted_under_a_rejected_head_enforces_the_newest_trusted_revision_and_still_reports_the_head_rejected()
    {
        var open = _mesh.Start("open");
        var strict = _mesh.Start("strict", extraHocon: TrustAlice);
        await _mesh.Converged();
        var good = (await open.Revisions.PushAsync(Signed(Motd("from alice"), _alice))).Revisions[0].Revision;
        await ReportOf(strict, good, ApplyOutcome.Ok);
        var unsigned = (await open.Revisions.PushAsync(Motd("unsigned"))).Revisions[0].Revision;
        await ReportOf(strict, unsigned, ApplyOutcome.Rejected);
        await Eventually.True(() => strict.Store.HistoryAsync("motd").Result.Count == 2, "strict holds both revisions in history");
        await strict.DisposeAsync();

        File.Delete(_mesh.RootOf(strict, "/motd"));
        var again = _mesh.Start("strict", extraHocon: TrustAlice);

        await Eventually.True(() => File.Exists(_mesh.RootOf(again, "/motd")), "the restarted node enforces Alice's revision again");
        Assert.Equal("from alice", File.ReadAllText(_mesh.RootOf(again, "/motd")));
        await ReportOf(again, unsigned, ApplyOutcome.Rejected);
        await Eventually.True(() => again.Fleet.AuditAsync("strict", null, 100).Result.Any(e => e.Kind == "enforcing" && e.Version == good.Version.ToString()),
            "the audit trail says which revision it enforces instead");

        // Drift under the rejected head is repaired to the trusted content, and the status still says rejected.
        File.WriteAllText(_mesh.RootOf(again, "/motd"), "edited");
        await again.Fleet.ConvergeAsync("strict");
        await Eventually.True(() => File.ReadAllText(_mesh.RootOf(again, "/motd")) == "from alice", "drift repaired to Alice's content");
        Assert.Equal("rejected", (await again.Queries.StatusAsync("motd")).Manifests.Single(s => s.Node == "strict").State);
    }

    [Fact]
    public async Task A_revision_altered_after_signing_is_never_applied()
    {
        var open = _mesh.Start("open");
        var strict = _mesh.Start("strict", extraHocon: TrustAlice);
        await _mesh.Converged();
        var good = (await open.Revisions.PushAsync(Signed(Motd("original"), _alice))).Revisions[0].Revision;
        await ReportOf(strict, good, ApplyOutcome.Ok);

        // A hostile member writes a revision whose body is not the one Alice signed, keeping her signature.
        var evil = (await open.Revisions.PushAsync(Motd("evil"))).Revisions[0].Revision;
        var forged = evil with { Version = open.Clock.Now(), Signature = good.Signature };
        var replicator = DistributedData.Get(open.System).Replicator;
        await replicator.Ask<IUpdateResponse>(Dsl.Update(Replicated.IndexOf("motd"), LWWDictionary<string, RevisionRecord>.Empty, WriteLocal.Instance,
            d => d.SetItem(open.Cluster.SelfUniqueAddress, "motd", forged, Replicated.RevisionClock)), TimeSpan.FromSeconds(5));

        var report = await ReportOf(strict, forged, ApplyOutcome.Rejected);
        Assert.Contains("altered after signing", report.Error);
        Assert.Equal("original", File.ReadAllText(_mesh.RootOf(strict, "/motd")));
    }

    [Fact]
    public async Task A_node_with_a_trust_list_refuses_an_unsigned_push_at_its_door_and_stores_nothing()
    {
        var strict = _mesh.Start("strict", extraHocon: TrustAlice);
        await _mesh.Converged();

        var e = await Assert.ThrowsAsync<PushDeniedException>(() => strict.Revisions.PushAsync(Motd("unsigned")));
        Assert.Contains("motd: unsigned", e.Message);
        var mallory = await Assert.ThrowsAsync<PushDeniedException>(() => strict.Revisions.PushAsync(Signed(Motd("x"), _mallory)));
        Assert.Contains("unknown key", mallory.Message);
        Assert.Empty(await strict.Store.IndexAsync());
    }

    [Fact]
    public async Task A_signature_that_does_not_match_the_content_is_refused_even_without_a_trust_list()
    {
        var open = _mesh.Start("open");
        await _mesh.Converged();
        var signedOther = Signed(Motd("what alice signed"), _alice);
        var tampered = Motd("something else") with { Signatures = signedOther.Signatures };

        var e = await Assert.ThrowsAsync<PushDeniedException>(() => open.Revisions.PushAsync(tampered));
        Assert.Contains("altered after signing", e.Message);
        Assert.Empty(await open.Store.IndexAsync());
    }

    [Fact]
    public async Task A_rollback_carries_the_old_revision_s_signature_so_trusting_nodes_apply_it()
    {
        var open = _mesh.Start("open");
        var strict = _mesh.Start("strict", extraHocon: TrustAlice);
        await _mesh.Converged();
        var first = (await open.Revisions.PushAsync(Signed(Motd("first"), _alice))).Revisions[0].Revision;
        var second = (await open.Revisions.PushAsync(Signed(Motd("second"), _alice))).Revisions[0].Revision;
        await ReportOf(strict, second, ApplyOutcome.Ok);
        await Eventually.True(() => strict.Store.HistoryAsync("motd").Result.Count == 2, "strict sees both revisions");

        var rolled = (await strict.Revisions.RollbackAsync("motd", first.Version.ToString(), "tester"))!.Revisions[0].Revision;

        await ReportOf(strict, rolled, ApplyOutcome.Ok);
        Assert.Equal("first", File.ReadAllText(_mesh.RootOf(strict, "/motd")));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        _alice.Dispose();
        _mallory.Dispose();
    }
}
