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
/// all within <c>mesh.push.ack-timeout</c>. A change that misses its quorum is still accepted here
/// (recorded, it spreads by gossip) but is listed as not replicated, re-checked every
/// <see cref="RecheckInterval"/> while any is listed, and dropped from the list once a quorum holds it.
/// </summary>
public sealed class Acknowledgements(ActorSystem system, Cluster cluster, Connectivity connectivity, ReplicatedStore store, ContentHolders holders, TimeSpan timeout)
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
        return new Acknowledgement(quorum, DateTimeOffset.UtcNow + timeout, timeout, reachable, holders);
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
                due = _unconfirmed.Values.ToArray();
            }
            foreach (var entry in due)
            {
                string? missed;
                try
                {
                    var ack = Begin(entry.Level);
                    await ack.HoldAsync(entry.Hashes);
                    await ack.ConfirmAsync(store, entry.Record.Manifest);
                    missed = ack.Report().Reason;
                }
                catch (Exception e)
                {
                    missed = e.Message;
                }
                lock (_lock)
                {
                    if (missed is null)
                    {
                        _unconfirmed.Remove(Key(entry.Record));
                        _log.Info("{0} {1} is now replicated to {2}", entry.Record.Manifest, entry.Record.Version, AckQuorum.Describe(entry.Level));
                    }
                    else if (_unconfirmed.ContainsKey(Key(entry.Record)))
                        _unconfirmed[Key(entry.Record)] = entry with { Reason = missed };
                }
            }
        }
        lock (_lock) _rechecking = false;
    }

    private static string Key(RevisionRecord record) => $"{record.Manifest}@{record.Version}";

    private sealed record Unconfirmed(RevisionRecord Record, string[] Hashes, AckLevel Level, DateTimeOffset Since, string Reason);
}

/// <summary>
/// One change's way to its quorum: the consistency its reads and writes use, the members that
/// confirmed its body, and what was missed. Not shared between threads.
/// </summary>
public sealed class Acknowledgement
{
    private readonly AckQuorum _quorum;
    private readonly DateTimeOffset _deadline;
    private readonly TimeSpan _timeout;
    private readonly IReadOnlyList<(string Name, Address Address)> _reachable;
    private readonly ContentHolders _holders;
    private readonly HashSet<string> _heldBy = new(StringComparer.Ordinal);
    private readonly List<string> _missed = [];

    internal Acknowledgement(AckQuorum quorum, DateTimeOffset deadline, TimeSpan timeout, IReadOnlyList<(string, Address)> reachable, ContentHolders holders)
    {
        (_quorum, _deadline, _timeout, _reachable, _holders) = (quorum, deadline, timeout, reachable, holders);
        if (quorum.Unreachable is { } why) _missed.Add(why);
    }

    public AckLevel Level => _quorum.Level;

    /// <summary>Whether reads and writes go beyond this node: a quorum of others was asked for and may be reached.</summary>
    private bool Replicating => Level != AckLevel.Local && _quorum.Unreachable is null && _quorum.Needed > 0;

    private TimeSpan? Remaining => _deadline - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : null;

    /// <summary>
    /// Reads the head(s) as the quorum sees them (compare-and-set at the level of the write). A read
    /// the quorum does not answer in time falls back to this node's replica, and the change cannot
    /// be a plain success.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<IReadConsistency?, Task<T>> read)
    {
        if (!Replicating) return await read(null);
        if (Remaining is not { } left)
        {
            _missed.Add("no time left to read the head from " + AckQuorum.Describe(Level));
            return await read(null);
        }
        try
        {
            return await read(new ReadFrom(_quorum.Needed + 1, left));
        }
        catch (StoreUnavailableException e)
        {
            _missed.Add($"the head could not be read from {AckQuorum.Describe(Level)} within {_timeout.TotalSeconds:0.#}s ({e.Message}), so it was checked against this node's replica only");
            return await read(null);
        }
    }

    /// <summary>Has the reachable members store the blobs; waits until enough of them confirm, or the deadline.</summary>
    public async Task HoldAsync(IEnumerable<string> hashes)
    {
        if (!Replicating || _quorum.Needed == 0) return;
        var outcome = await _holders.HoldAsync(hashes.Distinct().ToArray(), _reachable, _quorum.Needed, _deadline);
        _heldBy.UnionWith(outcome.HeldBy);
        if (_heldBy.Count < _quorum.Needed)
            _missed.Add($"the body is held by {_heldBy.Count} of the {_quorum.Needed} other member(s) needed within {_timeout.TotalSeconds:0.#}s" +
                (outcome.Failures.Length > 0 ? $" ({string.Join("; ", outcome.Failures)})" : ""));
    }

    /// <summary>Writes a record at the consistency of this change (this node's replica always); a write the quorum did not confirm is missed.</summary>
    public async Task RecordAsync(Func<IWriteConsistency?, Task<bool>> write)
    {
        if (!Replicating)
        {
            await write(null);
            return;
        }
        if (Remaining is not { } left)
        {
            await write(null);
            _missed.Add($"no time left within {_timeout.TotalSeconds:0.#}s to write the record to {AckQuorum.Describe(Level)}");
            return;
        }
        if (!await write(Write(left)))
            _missed.Add($"the record was not confirmed by {AckQuorum.Describe(Level)} of the {_quorum.Members} members within {_timeout.TotalSeconds:0.#}s");
    }

    /// <summary>Offers this node's record of a manifest (as it is) to the quorum again.</summary>
    internal async Task ConfirmAsync(ReplicatedStore store, string manifest)
    {
        if (!Replicating) return;
        if (Remaining is not { } left || !await store.ConfirmAsync(manifest, Write(left)))
            _missed.Add($"the record was not confirmed by {AckQuorum.Describe(Level)} of the {_quorum.Members} members within {_timeout.TotalSeconds:0.#}s");
    }

    /// <summary>
    /// The quorum as DData's <c>WriteTo(n)</c>, n counted as <c>WriteMajority</c>/<c>WriteAll</c> count
    /// (<see cref="AckQuorum"/>) but from the cluster's membership: the replicator's own member list
    /// lags a join by a moment, and while it is empty WriteMajority is satisfied by this node alone.
    /// WriteTo with fewer known nodes than n fails at once instead.
    /// </summary>
    private IWriteConsistency Write(TimeSpan left) => new WriteTo(_quorum.Needed + 1, left);

    public AckReport Report() => new(Level, _missed.Count == 0, _heldBy.Order(StringComparer.Ordinal).ToArray(),
        _missed.Count == 0 ? null : string.Join("; ", _missed));
}
