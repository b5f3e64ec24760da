using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Protocol.Signing;

/// <summary>How a pusher signs what it sends.</summary>
public static class PushSignatures
{
    /// <summary>
    /// Signs each manifest's name and canonical hash, computed exactly as the node will (same
    /// parser, same canonical form), so the node can check that the body it stores is the one
    /// that was signed. A file that does not parse is left unsigned: the node names its errors.
    /// </summary>
    public static PushRequest Sign(PushRequest request, SigningKey key)
    {
        var signatures = new Dictionary<string, RevisionSignature>(StringComparer.Ordinal);
        foreach (var file in request.Manifests)
        {
            var attached = (file.Attachments ?? []).ToDictionary(a => a.Key, a => CanonicalForm.Hash(a.Value), StringComparer.Ordinal);
            try
            {
                var manifest = ManifestParser.Parse(file.Text, file.File, name => attached.GetValueOrDefault(name));
                var hash = CanonicalForm.Hash(CanonicalForm.ToBytes(manifest));
                signatures[manifest.Name] = RevisionSignature.Make(key, RevisionSignature.ContentStatement(manifest.Name, hash));
            }
            catch (ManifestException)
            {
            }
        }
        return request with { Signatures = signatures };
    }
}
