namespace Mesh.Protocol.Signing;

/// <summary>
/// The signers a node accepts changes from: key id → (name, key). An empty list means the node
/// accepts unsigned changes (the quick start), which it says loudly.
/// </summary>
public sealed class TrustList
{
    private readonly Dictionary<string, (string Name, PublicKey Key)> _keys;

    public TrustList(IEnumerable<(string Name, PublicKey Key)> keys) =>
        _keys = keys.ToDictionary(k => k.Key.Id, k => (k.Name, k.Key), StringComparer.Ordinal);

    public static TrustList Empty { get; } = new([]);

    public bool Enforced => _keys.Count > 0;

    public IEnumerable<(string Name, PublicKey Key)> Keys => _keys.Values;

    /// <summary>The trusted name of a key id, or null.</summary>
    public string? NameOf(string? keyId) => keyId is not null && _keys.TryGetValue(keyId, out var k) ? k.Name : null;

    /// <summary>
    /// Why a change must not be applied, or null when it may. Without a trust list anything
    /// goes except a signature that does not verify (that is tampering whatever the policy).
    /// </summary>
    public string? Refusal(RevisionSignature? signature, byte[] statement)
    {
        if (signature is null)
            return Enforced ? "unsigned: this node applies only changes signed by a trusted key" : null;
        if (Enforced && !_keys.ContainsKey(signature.KeyId))
            return $"signed by unknown key {signature.KeyId}: not in this node's trust list";
        if (Enforced && _keys[signature.KeyId].Key.Spki != signature.PublicKey)
            return $"signed with a key that claims id {signature.KeyId} but is not the trusted key of that id";
        if (!signature.Verifies(statement))
            return $"the signature by key {signature.KeyId} does not match the content: altered after signing";
        return null;
    }
}
