using Akka.Actor;
using Akka.Serialization;

namespace Mesh.Node.Serialization;

/// <summary>
/// Hyperion with unsafe types refused and <see cref="MeshTypeFilter"/> as the allow-list.
/// A subclass is the one place the filter takes effect: the HOCON <c>allowed-types</c> list and
/// <c>HyperionSerializerSetup.WithTypeFilter</c> do not work in this Akka release.
/// </summary>
public sealed class MeshHyperionSerializer(ExtendedActorSystem system) : HyperionSerializer(system, FilteredSettings)
{
    private static readonly HyperionSerializerSettings FilteredSettings = new(
        preserveObjectReferences: HyperionSerializerSettings.Default.PreserveObjectReferences,
        versionTolerance: HyperionSerializerSettings.Default.VersionTolerance,
        knownTypesProvider: HyperionSerializerSettings.Default.KnownTypesProvider,
        packageNameOverrides: HyperionSerializerSettings.Default.PackageNameOverrides,
        surrogates: HyperionSerializerSettings.Default.Surrogates,
        disallowUnsafeType: true,
        typeFilter: MeshTypeFilter.Instance);
}
