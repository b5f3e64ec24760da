using Akka.Actor;
using Akka.DistributedData;
using Mesh.Node.Content;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Operations;

/// <summary>
/// One change's way to its quorum: the consistency its reads and writes use, the members that
/// confirmed its body, and what was missed. Each step (read the head, have the body held, write
/// the record) may take up to the ack timeout: the timeout bounds a stall, not a slow but moving
/// quorum (a starved mesh answers late, it does not fail). Once a step has missed the quorum the
/// change cannot be a plain success any more, so the later steps write to this node only (the
/// change spreads by gossip and is re-offered by <see cref="Acknowledgements"/>) instead of
/// making the caller wait again. Not shared between threads.
/// </summary>
public sealed class Acknowledgement
{
    private readonly AckQuorum _quorum;
    private readonly TimeSpan _timeout;
    private readonly IReadOnlyList<(string Name, Address Address)> _reachable;
    private readonly ContentHolders _holders;
    private readonly HashSet<string> _heldBy = new(StringComparer.Ordinal);
    private readonly List<string> _missed = [];

    internal Acknowledgement(AckQuorum quorum, TimeSpan timeout, IReadOnlyList<(string, Address)> reachable, ContentHolders holders)
    {
        (_quorum, _timeout, _reachable, _holders) = (quorum, timeout, reachable, holders);
        if (quorum.Unreachable is { } why) _missed.Add(why);
    }

    public AckLevel Level => _quorum.Level;

    /// <summary>
    /// Whether reads and writes go beyond this node: a quorum of others was asked for, may be
    /// reached, and no step has missed it yet.
    /// </summary>
    private bool Replicating => Level != AckLevel.Local && _quorum.Needed > 0 && _missed.Count == 0;

    /// <summary>
    /// Reads the head(s) as the quorum sees them (compare-and-set at the level of the write). A read
    /// the quorum does not answer in time falls back to this node's replica, and the change cannot
    /// be a plain success.
    /// </summary>
    public async Task<T> ReadAsync<T>(Func<IReadConsistency?, Task<T>> read)
    {
        if (!Replicating) return await read(null);
        try
        {
            return await read(new ReadFrom(_quorum.Needed + 1, _timeout));
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
        var blobs = hashes.Distinct().ToArray();
        // A tombstone has no body; a push of unchanged manifests makes nothing to hold.
        if (!Replicating || blobs.Length == 0) return;
        var outcome = await _holders.HoldAsync(blobs, _reachable, _quorum.Needed, DateTimeOffset.UtcNow + _timeout);
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
        if (!await write(Write()))
            _missed.Add($"the record was not confirmed by {AckQuorum.Describe(Level)} of the {_quorum.Members} members within {_timeout.TotalSeconds:0.#}s");
    }

    /// <summary>Offers this node's record of a manifest (as it is) to the quorum again.</summary>
    internal async Task ConfirmAsync(ReplicatedStore store, string manifest)
    {
        if (!Replicating) return;
        if (!await store.ConfirmAsync(manifest, Write()))
            _missed.Add($"the record was not confirmed by {AckQuorum.Describe(Level)} of the {_quorum.Members} members within {_timeout.TotalSeconds:0.#}s");
    }

    /// <summary>
    /// The quorum as DData's <c>WriteTo(n)</c>, n counted as <c>WriteMajority</c>/<c>WriteAll</c> count
    /// (<see cref="AckQuorum"/>) but from the cluster's membership: the replicator's own member list
    /// lags a join by a moment, and while it is empty WriteMajority is satisfied by this node alone.
    /// WriteTo with fewer known nodes than n fails at once instead.
    /// </summary>
    private IWriteConsistency Write() => new WriteTo(_quorum.Needed + 1, _timeout);

    /// <summary>
    /// The record as it must be written: provisional (<see cref="RevisionRecord.ProvisionalRank"/>)
    /// when this change asked for a quorum and a step before the record has already missed it, so
    /// that it cannot overwrite an acknowledged change it did not see. With <c>--ack local</c> the
    /// pusher chose this node's word alone: the record ranks by its version, as before acks.
    /// </summary>
    public RevisionRecord Stamp(RevisionRecord record, RevisionRecord? replaced) =>
        Level != AckLevel.Local && _missed.Count > 0 ? record with { ProvisionalRank = Replicated.ProvisionalRankOver(replaced) } : record;

    /// <summary>Whether a step has missed the quorum.</summary>
    public bool Missed => _missed.Count > 0;

    public AckReport Report() => new(Level, _missed.Count == 0, _heldBy.Order(StringComparer.Ordinal).ToArray(),
        _missed.Count == 0 ? null : string.Join("; ", _missed));
}
