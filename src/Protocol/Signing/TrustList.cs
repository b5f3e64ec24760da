namespace Mesh.Protocol.Signing;

/// <summary>What a trusted key may sign: manifest changes (pushes, deletions, rollbacks), tasks, or both.</summary>
[Flags]
public enum TrustPermission
{
    Push = 1,
    Tasks = 2,
}

/// <summary>
/// The signers a node accepts changes and tasks from: key id → (name, key, what it may sign).
/// An empty list means the node accepts unsigned changes and tasks (the quick start), which it
/// says loudly. A non-empty list is enforced for both: a task needs a key trusted for tasks,
/// even where no key is (then the node runs no task at all).
/// </summary>
public sealed class TrustList
{
    private readonly Dictionary<string, (string Name, PublicKey Key, TrustPermission Allows)> _keys;

    /// <summary>Keys trusted for pushes only (what a plain <c>NAME = KEY</c> entry means).</summary>
    public TrustList(IEnumerable<(string Name, PublicKey Key)> keys) : this(keys.Select(k => (k.Name, k.Key, TrustPermission.Push))) { }

    public TrustList(IEnumerable<(string Name, PublicKey Key, TrustPermission Allows)> keys)
    {
        _keys = new Dictionary<string, (string, PublicKey, TrustPermission)>(StringComparer.Ordinal);
        // One key under two names (say, once for pushes and once for tasks) may do what either allows.
        foreach (var (name, key, allows) in keys)
            _keys[key.Id] = _keys.TryGetValue(key.Id, out var known) ? (known.Name, key, known.Allows | allows) : (name, key, allows);
    }

    public static TrustList Empty { get; } = new(Array.Empty<(string, PublicKey)>());

    public bool Enforced => _keys.Count > 0;

    public IEnumerable<(string Name, PublicKey Key)> Keys => _keys.Values.Select(k => (k.Name, k.Key));

    /// <summary>Every key with what it may sign.</summary>
    public IEnumerable<(string Name, PublicKey Key, TrustPermission Allows)> Entries => _keys.Values;

    /// <summary>The trusted name of a key id, or null.</summary>
    public string? NameOf(string? keyId) => keyId is not null && _keys.TryGetValue(keyId, out var k) ? k.Name : null;

    /// <summary>
    /// Why a change must not be applied, or null when it may. Without a trust list anything
    /// goes except a signature that does not verify (that is tampering whatever the policy).
    /// </summary>
    public string? Refusal(RevisionSignature? signature, byte[] statement) => Refusal(signature, statement, TrustPermission.Push);

    /// <summary>Why a task must not run, or null when it may: as <see cref="Refusal(RevisionSignature?, byte[])"/>, with a key trusted for tasks.</summary>
    public string? TaskRefusal(RevisionSignature? signature, byte[] statement) => Refusal(signature, statement, TrustPermission.Tasks);

    private string? Refusal(RevisionSignature? signature, byte[] statement, TrustPermission needed)
    {
        var what = needed == TrustPermission.Tasks ? "tasks" : "changes";
        if (signature is null)
            return Enforced ? $"unsigned: this node {(needed == TrustPermission.Tasks ? "runs only tasks" : "applies only changes")} signed by a trusted key" : null;
        if (Enforced && !_keys.ContainsKey(signature.KeyId))
            return $"signed by unknown key {signature.KeyId}: not in this node's trust list";
        if (Enforced && _keys[signature.KeyId].Key.Spki != signature.PublicKey)
            return $"signed with a key that claims id {signature.KeyId} but is not the trusted key of that id";
        if (Enforced && (_keys[signature.KeyId].Allows & needed) == 0)
            return $"signed by {_keys[signature.KeyId].Name} ({signature.KeyId}), a key this node does not trust for {what}";
        if (!signature.Verifies(statement))
            return $"the signature by key {signature.KeyId} does not match the content: altered after signing";
        return null;
    }
}
