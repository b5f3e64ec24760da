using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Cli;

/// <summary>Reads manifest files to push, with the files their <c>source</c> fields name (relative to the manifest).</summary>
public static class ManifestFiles
{
    public static ManifestFile[] Read(IEnumerable<FileInfo> files) => files.Select(Read).ToArray();

    private static ManifestFile Read(FileInfo file)
    {
        string text;
        try
        {
            text = File.ReadAllText(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Invalid, $"{file}: {e.Message}");
        }

        var attachments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var source in ManifestParser.SourcesNamedBy(text))
        {
            var path = Path.Combine(file.DirectoryName ?? ".", source);
            try
            {
                attachments[source] = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.Invalid, $"{file}: source '{source}' cannot be read: {e.Message}");
            }
        }
        return new ManifestFile(file.Name, text, attachments.Count == 0 ? null : attachments);
    }
}
