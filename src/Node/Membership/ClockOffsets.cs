using Akka.Actor;
using Mesh.Protocol.Api;

namespace Mesh.Node.Membership;

/// <summary>
/// How far each peer's clock is from this node's, and the correction this node applies to the
/// wall time its versions are stamped with (<see cref="Now"/>, the wall clock of its
/// <see cref="Protocol.Versioning.HybridClock"/>). Last-writer-wins on hybrid timestamps lets a
/// node whose clock is ahead win every concurrent push, and one behind lose them, for as long as
/// the skew lasts; so a node that finds its clock more than <c>max-skew</c> off the majority's
/// takes the majority's time instead, as NTP-less hybrid-clock systems do. Offsets are of the
/// raw clocks (corrections left out), so a correction never feeds back into the next estimate.
/// Thread-safe: the clock, the control API and <see cref="ClockWatch"/> use it at once.
/// </summary>
public sealed class ClockOffsets(string self, TimeSpan maxSkew, Func<long> rawWall)
{
    /// <summary>A peer's latest readings; its offset is the one read over the fastest round trip, the least distorted by delay (as NTP's clock filter).</summary>
    private sealed record Peer(string Name, (long OffsetMs, long RoundTripMs)[] Readings, bool Corrected)
    {
        public const int Kept = 8;

        public long OffsetMs => Readings.MinBy(r => r.RoundTripMs).OffsetMs;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<Address, Peer> _peers = [];
    private long _correction;

    public long MaxSkewMs { get; } = (long)maxSkew.TotalMilliseconds;

    /// <summary>This node's own wall clock, in Unix milliseconds, uncorrected.</summary>
    public long RawNow() => rawWall();

    /// <summary>The wall time versions are stamped with: this node's clock, corrected to the majority's when it is off.</summary>
    public long Now() => rawWall() + CorrectionMs;

    /// <summary>What this node adds to its own clock: 0, or minus how far it is off the majority's.</summary>
    public long CorrectionMs => Interlocked.Read(ref _correction);

    /// <summary>Takes a peer's offset (its raw clock minus this node's) read over a round trip; returns the correction now in force.</summary>
    public long Observe(Address peer, string name, long offsetMs, long roundTripMs, bool corrected)
    {
        lock (_lock)
        {
            var earlier = _peers.GetValueOrDefault(peer)?.Readings ?? [];
            _peers[peer] = new Peer(name, [.. earlier.TakeLast(Peer.Kept - 1), (offsetMs, roundTripMs)], corrected);
            return Decide();
        }
    }

    /// <summary>A member that left no longer counts.</summary>
    public long Forget(Address peer)
    {
        lock (_lock)
        {
            _peers.Remove(peer);
            return Decide();
        }
    }

    private long Decide()
    {
        var correction = CorrectionFor(_peers.Values.Select(p => p.OffsetMs).ToArray(), MaxSkewMs);
        Interlocked.Exchange(ref _correction, correction);
        return correction;
    }

    /// <summary>
    /// The majority's time relative to this node: the median of the members' offsets (this node's
    /// own, 0, included), when more than half of them lie within <paramref name="maxSkewMs"/> of it
    /// (a majority agrees) and it is itself more than that away; otherwise 0. With two members,
    /// or an even split, no side is the majority and nobody corrects.
    /// </summary>
    public static long CorrectionFor(IReadOnlyCollection<long> peerOffsets, long maxSkewMs)
    {
        var all = peerOffsets.Append(0).Order().ToArray();
        var median = all[(all.Length - 1) / 2];
        var agreeing = all.Count(o => Math.Abs(o - median) <= maxSkewMs);
        return agreeing * 2 > all.Length && Math.Abs(median) > maxSkewMs ? median : 0;
    }

    /// <summary>
    /// The clocks more than max-skew off the mesh's time (this node's, corrected): every such
    /// peer, and this node itself while it corrects its own. Ahead is positive.
    /// </summary>
    public ClockSkew[] Skews()
    {
        lock (_lock)
        {
            var correction = CorrectionMs;
            var skews = _peers.Values
                .Select(p => new ClockSkew(p.Name, p.OffsetMs - correction, Self: false, p.Corrected))
                .Where(s => Math.Abs(s.AheadMs) > MaxSkewMs)
                .OrderBy(s => s.Node, StringComparer.Ordinal);
            return correction == 0 ? skews.ToArray() : [new ClockSkew(self, -correction, Self: true, Corrected: true), .. skews];
        }
    }
}
