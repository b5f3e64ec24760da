using Mesh.Protocol.Manifests;

namespace Mesh.Protocol.Api;

/// <summary>Reads a manifest file from disk with the files its <c>source</c> fields name (relative to the manifest).</summary>
public static class ManifestSources
{
    /// <exception cref="ManifestException">the manifest or one of its sources cannot be read.</exception>
    public static ManifestFile Read(string path)
    {
        var name = Path.GetFileName(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException([new ManifestError(path, 0, 0, "", e.Message)]);
        }

        var attachments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var source in ManifestParser.SourcesNamedBy(text))
        {
            try
            {
                attachments[source] = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, source));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ManifestException([new ManifestError(path, 0, 0, "source", $"'{source}' cannot be read: {e.Message}")]);
            }
        }
        return new ManifestFile(name, text, attachments.Count == 0 ? null : attachments);
    }
}
