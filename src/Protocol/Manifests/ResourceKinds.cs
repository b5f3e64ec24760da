namespace Mesh.Protocol.Manifests;

/// <summary>The resource kinds a manifest may use, by their YAML name.</summary>
internal static class ResourceKinds
{
    public delegate ResourceSpec Parser(FieldReader fields, string id, string[] requires);

    public static readonly IReadOnlyDictionary<string, Parser> Parsers = new Dictionary<string, Parser>(StringComparer.Ordinal)
    {
        [FileResource.KindName] = FileResource.Parse,
        [DirectoryResource.KindName] = DirectoryResource.Parse,
    };
}
