using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using Mesh.Node.Content;
using Mesh.Node.Membership;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// When a change may be acknowledged: its body held by the other members its <see cref="AckLevel"/>
/// needs (<see cref="AckQuorum"/>), then its record written with the matching DData consistency,
/// each step within <c>mesh.push.ack-timeout</c>. A change that misses its quorum is still accepted here
/// (recorded, it spreads by gossip) but is listed as not replicated, re-checked every
/// <see cref="RecheckInterval"/> while any is listed, and dropped from the list once a quorum holds it.
/// A provisional record (<see cref="RevisionRecord.ProvisionalRank"/>) is confirmed only while the
/// quorum still has it as the head: then its body is held and it is written again as
/// acknowledged. If an acknowledged change replaced its parent meanwhile, that one stays the
/// head, and the provisional revision is dropped from the list as lost (history keeps it, flagged).
/// </summary>
public sealed class Acknowledgements(ActorSystem system, Cluster cluster, Connectivity connectivity, ReplicatedStore store, ContentHolders holders,
    TimeSpan timeout, int historyKeep)
{
    /// <summary>How often the revisions accepted while not replicated are offered to the members again.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Unconfirmed> _unconfirmed = new(StringComparer.Ordinal);
    private bool _rechecking;
    private readonly ILoggingAdapter _log = Logging.GetLogger(system, typeof(Acknowledgements));

    /// <summary>Starts the acknowledgement of one change: the quorum as the membership stands now, and the deadline.</summary>
    public Acknowledgement Begin(AckLevel level)
    {
        var state = cluster.State;
        var self = cluster.SelfUniqueAddress;
        var up = state.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp).ToArray();
        var selfUp = up.Any(m => m.UniqueAddress.Equals(self));
        var reachable = up.Where(m => !m.UniqueAddress.Equals(self) && !state.Unreachable.Contains(m))
            .Select(m => (NodeRoles.Decode(m).Name, m.Address)).ToArray();
        var quorum = AckQuorum.Of(level, selfUp, connectivity.Current.Offline ? connectivity.Current.Reason : null, up.Length, reachable.Length);
        return new Acknowledgement(quorum, timeout, reachable, holders);
    }

    /// <summary>What the change got; a change that missed its quorum is listed until a later check finds it held.</summary>
    public AckReport Finish(Acknowledgement ack, IEnumerable<(RevisionRecord Record, string[] Hashes)> made)
    {
        var report = ack.Report();
        if (report.Reached) return report;
        lock (_lock)
        {
            foreach (var (record, hashes) in made)
                _unconfirmed[Key(record)] = new Unconfirmed(record, hashes, ack.Level, DateTimeOffset.UtcNow, report.Reason ?? "");
            if (!_rechecking && _unconfirmed.Count > 0)
            {
                _rechecking = true;
                _ = Task.Run(RecheckAsync);
            }
        }
        return report;
    }

    /// <summary>The revisions accepted here while not replicated, oldest first (for <c>mesh status</c>).</summary>
    public UnreplicatedRevision[] Unreplicated()
    {
        lock (_lock)
            return _unconfirmed.Values.OrderBy(u => u.Since)
                .Select(u => new UnreplicatedRevision(u.Record.Manifest, u.Record.Version.ToString(), u.Level, u.Since, u.Reason)).ToArray();
    }

    private async Task RecheckAsync()
    {
        while (!system.WhenTerminated.IsCompleted)
        {
            await Task.Delay(RecheckInterval);
            Unconfirmed[] due;
            lock (_lock)
            {
                if (_unconfirmed.Count == 0 || system.WhenTerminated.IsCompleted)
                {
                    _rechecking = false;
                    return;
                }
                // Oldest first: a later provisional revision of a manifest is made over the earlier one.
                due = _unconfirmed.Values.OrderBy(u => u.Record.Version).ToArray();
            }
            foreach (var entry in due)
            {
                string? missed;
                RevisionRecord? winner = null;
                try
                {
                    var ack = Begin(entry.Level);
                    if (entry.Record.Provisional)
                    {
                        var head = await ack.ReadAsync(consistency => store.HeadAsync(entry.Record.Manifest, consistency));
                        // Without the quorum's view nothing is decided: it stays provisional and listed.
                        if (!ack.Missed && !Equals(head?.Version, entry.Record.Version)) winner = head;
                        else if (!ack.Missed)
                        {
                            await ack.HoldAsync(entry.Hashes);
                            if (!ack.Missed)
                                await ack.RecordAsync(consistency => store.RecordAsync(entry.Record with { ProvisionalRank = 0 }, historyKeep, consistency));
                        }
                    }
                    else
                    {
                        await ack.HoldAsync(entry.Hashes);
                        await ack.ConfirmAsync(store, entry.Record.Manifest);
                    }
                    missed = ack.Report().Reason;
                }
                catch (Exception e)
                {
                    missed = e.Message;
                }
                lock (_lock)
                {
                    if (winner is not null || missed is null)
                        _unconfirmed.Remove(Key(entry.Record));
                    else if (_unconfirmed.ContainsKey(Key(entry.Record)))
                        _unconfirmed[Key(entry.Record)] = entry with { Reason = missed };
                }
                if (winner is not null)
                    _log.Warning("{0} {1}, accepted here while not replicated, lost to {2} by {3} via {4}, acknowledged meanwhile: it stays in history, flagged lost",
                        entry.Record.Manifest, entry.Record.Version, winner.Version, winner.Author, winner.Origin);
                else if (missed is null)
                    _log.Info("{0} {1} is now replicated to {2}", entry.Record.Manifest, entry.Record.Version, AckQuorum.Describe(entry.Level));
            }
        }
        lock (_lock) _rechecking = false;
    }

    private static string Key(RevisionRecord record) => $"{record.Manifest}@{record.Version}";

    private sealed record Unconfirmed(RevisionRecord Record, string[] Hashes, AckLevel Level, DateTimeOffset Since, string Reason);
}
