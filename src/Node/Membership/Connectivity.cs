using Akka.Actor;

namespace Mesh.Node.Membership;

/// <summary>What <c>mesh status</c> says about the answering node's reach.</summary>
public sealed record ConnectivityState(bool Offline, DateTimeOffset? Since, string? Reason);

/// <summary>
/// Whether this node reaches any peer. Offline (not joined to its seeds, or every other member
/// unreachable, or the last member left) the node keeps enforcing its last known state, but
/// its view of the mesh is stale and what it accepts reaches nobody yet. A node started
/// without seeds that never had a peer is a mesh of one, not offline.
/// <see cref="ConnectivityMonitor"/> feeds it; it outlives an incarnation of the node, so the
/// next one can carry on from it (<see cref="Inherit"/>). Thread-safe: the control API reads it.
/// </summary>
public sealed class Connectivity
{
    public const string NotJoined = "not joined: no seed has let it in yet";
    public const string NoPeerReachable = "no peer reachable: every other member is unreachable";
    public const string Alone = "no peer reachable: no other member is left";

    private readonly Lock _lock = new();
    private readonly HashSet<Address> _peers = [];
    private bool _offline = true;
    private DateTimeOffset? _since;
    private string? _reason = NotJoined;
    private bool _announced;

    /// <param name="started">when this incarnation started: a node is offline until it has joined</param>
    public Connectivity(DateTimeOffset started) => _since = started;

    public ConnectivityState Current
    {
        get
        {
            lock (_lock) return new ConnectivityState(_offline, _offline ? _since : null, _offline ? _reason : null);
        }
    }

    private volatile SeedAnswers? _seedAnswers;

    /// <summary>
    /// While this node has not joined: what each node it joins through answers, since when
    /// (<see cref="SeedProbe"/>); empty once it has joined.
    /// </summary>
    public Mesh.Protocol.Api.SeedAnswer[] Seeds => _seedAnswers?.Current ?? [];

    /// <summary>Reports what <paramref name="answers"/> holds as <see cref="Seeds"/>.</summary>
    internal void Probing(SeedAnswers answers) => _seedAnswers = answers;

    /// <summary>Every other member this node has seen (its own address aside), for a new incarnation to rejoin through.</summary>
    public Address[] KnownPeers
    {
        get
        {
            lock (_lock) return _peers.ToArray();
        }
    }

    internal void SawPeer(Address peer)
    {
        lock (_lock) _peers.Add(peer);
    }

    /// <summary>Takes what the monitor sees now; returns the line to log when that is a change worth a line.</summary>
    internal string? Observe(string? offlineReason, int reachablePeers, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (offlineReason is not null)
            {
                _reason = offlineReason;
                if (_offline) return null;
                (_offline, _since, _announced) = (true, now, true);
                return Offline();
            }
            if (!_offline) return null;
            var wasAnnounced = _announced;
            var since = _since;
            (_offline, _since, _reason, _announced) = (false, null, null, false);
            return wasAnnounced ? $"online again: {reachablePeers} peer(s) reachable after being offline since {since:u}" : null;
        }
    }

    /// <summary>
    /// A node that has not joined within the seed timeout says so once; joining normally takes
    /// a moment, and a line for every start would only be noise.
    /// </summary>
    internal string? StillJoining()
    {
        lock (_lock)
        {
            if (!_offline || _announced) return null;
            _announced = true;
            return Offline();
        }
    }

    private string Offline() => $"offline since {_since:u}: {_reason}; enforcing its last known state";

    /// <summary>
    /// Carries on from the previous incarnation of this node: offline since when it lost its
    /// peers (not since this restart), and the peers it knew, to rejoin through.
    /// </summary>
    public void Inherit(Connectivity previous)
    {
        var before = previous.Current;
        var peers = previous.KnownPeers;
        bool announced;
        lock (previous._lock) announced = previous._announced;
        lock (_lock)
        {
            _peers.UnionWith(peers);
            if (!before.Offline || !_offline) return;
            if (before.Since < _since) _since = before.Since;
            _announced |= announced;
        }
    }
}
