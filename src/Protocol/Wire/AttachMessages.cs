namespace Mesh.Protocol.Wire;

/// <summary>
/// An attached host (a host that is not a cluster member) tells a core peer who it is, through
/// Akka's <c>ClusterClient</c>: at once on start and then every keep-alive. <see cref="Identity"/>
/// is the host's identity encoded as a member's roles are (name, roles, labels, public key), so
/// targets and sealed secrets treat it as they treat a member. <see cref="Heads"/> is the digest
/// of the heads the host knows (<see cref="AttachedState.DigestOf"/>): the peer sends its whole
/// state when the digests differ, and a bare <see cref="AttachedState"/> otherwise.
/// </summary>
/// <param name="Address">the host's own remoting address, shown by <c>mesh members</c></param>
/// <param name="Relays">the host serves the bodies it holds to other hosts (its address is reachable from them): its peer may
/// place it in a relay tree</param>
public sealed record AttachHost(string Name, string[] Identity, string Address, string Heads, bool Relays = false);

/// <summary>
/// A core peer's answer to <see cref="AttachHost"/>, and its news afterwards: the heads of the
/// index (every manifest, the host decides what targets it), the rollouts and their steps.
/// <see cref="Complete"/>: this is everything the peer holds, not news; empty arrays with
/// <see cref="Complete"/> false are a keep-alive's answer.
/// </summary>
/// <param name="PeerAddress">the peer's cluster address: the host pulls bodies from it first</param>
/// <param name="Relays">for some of <see cref="Heads"/>, by body hash: the address of the host above this one in the peer's
/// relay tree for that body, which this host pulls it from first (it is pulling the same body at the same moment)</param>
public sealed record AttachedState(string Peer, string PeerAddress, RevisionRecord[] Heads, RolloutRecord[] Rollouts, RolloutStep[] Steps, bool Complete,
    Dictionary<string, string>? Relays = null)
{
    /// <summary>A digest of a set of heads, the same on the host and on the peer for the same heads.</summary>
    public static string DigestOf(IEnumerable<RevisionRecord> heads)
    {
        var text = string.Join("\n", heads.Select(h => h.Manifest + "@" + h.Version + (h.Deleted ? "-" : "") + (h.Provisional ? "?" : ""))
            .Order(StringComparer.Ordinal));
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..16];
    }
}

/// <summary>A core peer refuses a host (its name is a member's): the host stops and says why.</summary>
public sealed record AttachRefused(string Peer, string Reason);

/// <summary>An attached host drops its report for a manifest it no longer enforces (a tombstone).</summary>
public sealed record AttachedReportRemoved(string Node, string Manifest);

/// <summary>
/// An attached host as the core records it in the replicated registry: its identity (encoded as
/// a member's roles), its address, the core peer it is attached to, and since when. Targets select attached
/// hosts from this registry as they select members from the membership.
/// </summary>
public sealed record AttachedHostRecord(string Name, string[] Identity, string Address, string Peer, DateTimeOffset Since);
