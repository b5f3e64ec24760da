namespace Mesh.Protocol.Manifests;

/// <summary>
/// The resource kinds a manifest may use, by their YAML name, each with the parser of its
/// fields. Adding a kind is its spec file plus one line here (and its provider on the node).
/// </summary>
public static class ResourceKinds
{
    internal delegate ResourceSpec Parser(FieldReader fields, string id, string[] requires);

    // Add, not the indexer: a name listed twice fails when the table is built instead of hiding a kind.
    internal static readonly IReadOnlyDictionary<string, Parser> Parsers = new Dictionary<string, Parser>(StringComparer.Ordinal)
    {
        { FileResource.KindName, FileResource.Parse },
        { DirectoryResource.KindName, DirectoryResource.Parse },
        { SymlinkResource.KindName, SymlinkResource.Parse },
        { ExecResource.KindName, ExecResource.Parse },
        { ServiceResource.KindName, ServiceResource.Parse },
        { PackageResource.KindName, PackageResource.Parse },
        { UserResource.KindName, UserResource.Parse },
        { GroupResource.KindName, GroupResource.Parse },
    };

    /// <summary>Every kind name, so a node can check that it has a provider for each.</summary>
    public static IEnumerable<string> Names => Parsers.Keys;
}
