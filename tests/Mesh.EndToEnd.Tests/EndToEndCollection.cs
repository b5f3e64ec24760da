namespace Mesh.EndToEnd.Tests;

/// <summary>End-to-end classes run one after another: each starts its own mesh of real processes.</summary>
[CollectionDefinition(Name)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}
