using System.Reflection;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// The resource kinds a manifest may use, by their YAML name. A kind registers itself by
/// being a <see cref="ResourceSpec"/> in this assembly with a <c>KindName</c> constant and a
/// static <c>Parse(FieldReader, string id, string[] requires)</c>: adding a kind is adding
/// one file.
/// </summary>
internal static class ResourceKinds
{
    public delegate ResourceSpec Parser(FieldReader fields, string id, string[] requires);

    public static readonly IReadOnlyDictionary<string, Parser> Parsers = Discover();

    private static Dictionary<string, Parser> Discover()
    {
        var parsers = new Dictionary<string, Parser>(StringComparer.Ordinal);
        foreach (var type in typeof(ResourceSpec).Assembly.GetTypes().Where(t => t.IsSealed && t.IsSubclassOf(typeof(ResourceSpec))))
        {
            var name = type.GetField("KindName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
                ?? throw new InvalidOperationException($"{type.Name} has no KindName constant");
            var parse = type.GetMethod("Parse", BindingFlags.NonPublic | BindingFlags.Static, [typeof(FieldReader), typeof(string), typeof(string[])])
                ?? throw new InvalidOperationException($"{type.Name} has no static Parse(FieldReader, string, string[])");
            parsers.Add(name, parse.CreateDelegate<Parser>());
        }
        return parsers;
    }
}
