using System.Text.Json;
using Akka.Actor;
using Mesh.Node.Converge;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Attached;

/// <summary>Where an attached host stands with the core, read from any thread: the peer it is attached to, or why it was refused.</summary>
public sealed class AttachedStatus
{
    private readonly Lock _lock = new();
    private string _peer = "";
    private string _address = "";
    private string? _refusal;
    /// <summary>Body hash → the host above this one in its peer's relay tree for that body; the latest few.</summary>
    private readonly Dictionary<string, string> _relays = new(StringComparer.Ordinal);
    private readonly Queue<string> _relayOrder = new();
    private const int RelaysKept = 64;

    public string Peer
    {
        get { lock (_lock) return _peer; }
    }

    /// <summary>The cluster address of the peer this host is attached to; empty before the first answer.</summary>
    public string PeerAddress
    {
        get { lock (_lock) return _address; }
    }

    /// <summary>Why a core peer refused this host; null when none did.</summary>
    public string? Refusal
    {
        get { lock (_lock) return _refusal; }
    }

    /// <summary>Records the peer that answered; returns the previous peer's name when it changed ("" for none), null when it did not.</summary>
    public string? Attach(string peer, string address)
    {
        lock (_lock)
        {
            if (_peer == peer && _address == address) return null;
            var previous = _peer;
            (_peer, _address) = (peer, address);
            return previous;
        }
    }

    public void Refuse(string reason)
    {
        lock (_lock) _refusal = reason;
    }

    /// <summary>Records where to pull bodies from first, as the peer placed this host in its relay trees.</summary>
    public void Relay(IReadOnlyDictionary<string, string> relays)
    {
        lock (_lock)
            foreach (var (hash, from) in relays)
            {
                if (!_relays.ContainsKey(hash)) _relayOrder.Enqueue(hash);
                _relays[hash] = from;
                while (_relayOrder.Count > RelaysKept) _relays.Remove(_relayOrder.Dequeue());
            }
    }

    /// <summary>
    /// The peers to pull a revision's body and sources from: the host above this one in its
    /// peer's relay tree for that body, when there is one; the peer this host is attached to (it
    /// pulls each new body for its hosts); then the revision's origin, then the other contacts.
    /// </summary>
    public IReadOnlyList<Address> PeersFor(RevisionRecord revision, IEnumerable<string> contacts)
    {
        var order = new List<string>();
        lock (_lock)
        {
            if (_relays.TryGetValue(revision.Hash, out var relay)) order.Add(relay);
            if (_address.Length > 0) order.Add(_address);
        }
        if (!string.IsNullOrEmpty(revision.OriginAddress)) order.Add(revision.OriginAddress);
        order.AddRange(contacts);
        return order.Distinct(StringComparer.Ordinal).Select(Address.Parse).ToArray();
    }
}

/// <summary>The heads an attached host last knew, on its disk: what it enforces after a restart while no peer answers.</summary>
public sealed class HeadsFile(string path)
{
    public IReadOnlyList<RevisionRecord> Load()
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<RevisionRecord[]>(File.ReadAllBytes(path)) ?? [] : [];
        }
        catch (JsonException)
        {
            // Unreadable (cut short by a crash): the peer sends the heads again when it answers.
            return [];
        }
    }

    /// <summary>Written whole to a new file, then moved over the old one: never half a list.</summary>
    public void Save(IEnumerable<RevisionRecord> heads)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".new";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(heads.ToArray()));
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>
/// An attached host's <see cref="IConvergeStore"/>: its reports, steps and removed reports go to
/// its core peer through the <see cref="AttachedLink"/>, which writes and publishes them; news
/// comes from the link. It keeps no history: a host that refuses a revision's signature does not
/// fall back to an older trusted one (a member does).
/// </summary>
public sealed class PeerStore(IActorRef link) : IConvergeStore
{
    public void SubscribeToIndex(IActorRef subscriber) => link.Tell(new AttachedLink.Follow(subscriber));

    public void SubscribeToRollouts(IActorRef subscriber) => link.Tell(new AttachedLink.Follow(subscriber));

    public void PutReport(ApplyReport report) => link.Tell(report);

    public void RemoveReport(string node, string manifest) => link.Tell(new AttachedReportRemoved(node, manifest));

    public void PutStep(RolloutStep step) => link.Tell(step);

    public Task<IReadOnlyList<RevisionRecord>> HistoryAsync(string manifest) => Task.FromResult<IReadOnlyList<RevisionRecord>>([]);
}
