using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;

namespace Mesh.Cli;

/// <summary>Reads manifest files to push, with the files their <c>source</c> fields name.</summary>
public static class ManifestFiles
{
    public static ManifestFile[] Read(IEnumerable<FileInfo> files) => files.Select(f =>
    {
        try
        {
            return ManifestSources.Read(f.FullName);
        }
        catch (ManifestException e)
        {
            throw new CliException(ExitCodes.Invalid, e.Errors[0].ToString());
        }
    }).ToArray();
}
