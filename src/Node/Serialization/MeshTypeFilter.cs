using System.Reflection;
using Hyperion;

namespace Mesh.Node.Serialization;

/// <summary>
/// The types Hyperion may create when reading a message from the network: Mesh's own wire
/// types (everything in Mesh.Protocol) and the handful of framework types they are made of.
/// Anything else is refused before an instance exists. Hyperion hands us short or fully
/// assembly-qualified names; both are resolved against assemblies already loaded, never by
/// loading a new one.
/// </summary>
public sealed class MeshTypeFilter : ITypeFilter
{
    public static readonly MeshTypeFilter Instance = new();

    private static readonly Assembly ProtocolAssembly = typeof(Protocol.Wire.RevisionRecord).Assembly;

    private static readonly HashSet<Type> Allowed =
    [
        typeof(string), typeof(bool), typeof(byte), typeof(short), typeof(int), typeof(long), typeof(double),
        typeof(decimal), typeof(char), typeof(Guid), typeof(DateTime), typeof(DateTimeOffset), typeof(TimeSpan),
        typeof(object), typeof(System.Collections.DictionaryEntry),
        typeof(Dictionary<,>), typeof(List<>), typeof(KeyValuePair<,>), typeof(HashSet<>), typeof(SortedDictionary<,>),
        typeof(Nullable<>), typeof(StringComparer), typeof(EqualityComparer<>),
    ];

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _verdicts = new();

    public bool IsAllowed(string typeName) => _verdicts.GetOrAdd(typeName, static name => Resolve(name) is { } t && IsAllowed(t));

    public static bool IsAllowed(Type type)
    {
        if (type.IsArray) return IsAllowed(type.GetElementType()!);
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            return IsAllowed(type.GetGenericTypeDefinition()) && type.GetGenericArguments().All(IsAllowed);
        if (type.Assembly == ProtocolAssembly) return true;
        // The ordinal/default comparers are runtime-internal subclasses of the public ones.
        if (typeof(StringComparer).IsAssignableFrom(type) && type.Assembly == typeof(string).Assembly) return true;
        if (type.IsGenericType && type.GetGenericTypeDefinition().FullName?.StartsWith("System.Collections.Generic.", StringComparison.Ordinal) == true
            && type.Name.Contains("EqualityComparer", StringComparison.Ordinal) && type.Assembly == typeof(string).Assembly) return true;
        return Allowed.Contains(type);
    }

    private static Type? Resolve(string name)
    {
        try
        {
            // Hyperion abbreviates the core library's version/culture/key to "%core%".
            return Type.GetType(name.Replace(",%core%", "", StringComparison.Ordinal), LoadedAssembly, FindType, throwOnError: false);
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static Assembly? LoadedAssembly(AssemblyName name) =>
        AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => AssemblyName.ReferenceMatchesDefinition(name, a.GetName()));

    private static Type? FindType(Assembly? assembly, string name, bool ignoreCase)
    {
        if (assembly is not null) return assembly.GetType(name, false, ignoreCase);
        foreach (var a in new[] { typeof(string).Assembly, ProtocolAssembly })
            if (a.GetType(name, false, ignoreCase) is { } t) return t;
        return null;
    }
}
