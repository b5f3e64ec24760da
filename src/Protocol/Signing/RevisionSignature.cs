using System.Text;

namespace Mesh.Protocol.Signing;

/// <summary>
/// A signature over one change to one manifest, made by the pusher's key. What is signed is a
/// short statement: for content, the manifest's name and the SHA-256 of its canonical form (so
/// the body, pulled peer to peer by that hash, is covered too); for a deletion, the name and
/// the head revision it deletes. The public key travels along so a node can name a signer it
/// does not trust; whether it trusts it is the node's own trust list's decision.
/// </summary>
public sealed record RevisionSignature(string KeyId, string PublicKey, string Signature)
{
    public static byte[] ContentStatement(string manifest, string hash) =>
        Encoding.UTF8.GetBytes($"mesh-revision-v1\n{manifest}\n{hash}\n");

    public static byte[] DeletionStatement(string manifest, string head) =>
        Encoding.UTF8.GetBytes($"mesh-delete-v1\n{manifest}\n{head}\n");

    public static RevisionSignature Make(SigningKey key, byte[] statement) =>
        new(key.Public.Id, key.Public.Spki, Convert.ToBase64String(key.Sign(statement)));

    /// <summary>True when the signature is well formed, its key id matches its key, and it verifies over the statement.</summary>
    public bool Verifies(byte[] statement)
    {
        try
        {
            var key = Signing.PublicKey.FromSpki(Convert.FromBase64String(PublicKey));
            return key.Id == KeyId && key.Verifies(statement, Convert.FromBase64String(Signature));
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
