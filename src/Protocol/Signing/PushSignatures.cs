using Mesh.Protocol.Manifests;

namespace Mesh.Protocol.Signing;

/// <summary>How a pusher signs what it sends.</summary>
public static class PushSignatures
{
    /// <summary>
    /// Signs each manifest's name and canonical hash. The manifests are prepared from the text
    /// that is sent, exactly as the node will prepare it (same parser, same canonical form), so
    /// the node can check that the body it stores is the one that was signed. A file that does
    /// not parse has no prepared manifest and so no signature: the node names its errors.
    /// </summary>
    public static Dictionary<string, RevisionSignature> Sign(IEnumerable<PreparedManifest> manifests, SigningKey key)
    {
        var signatures = new Dictionary<string, RevisionSignature>(StringComparer.Ordinal);
        foreach (var m in manifests) signatures[m.Name] = RevisionSignature.Make(key, RevisionSignature.ContentStatement(m.Name, m.Hash));
        return signatures;
    }
}
