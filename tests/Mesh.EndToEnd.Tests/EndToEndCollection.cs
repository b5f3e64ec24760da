namespace Mesh.EndToEnd.Tests;

/// <summary>
/// End-to-end classes run in two lanes side by side, one class at a time in each lane; every
/// class starts its own mesh of real processes. Most of an end-to-end test's time is spent
/// waiting on the mesh's own timers (failure detection, the split-brain resolver, gossip), not
/// computing, so two lanes keep the whole suite within CI's time on a two-core machine. The
/// tests must hold on a busy machine anyway: that is what the second lane makes them prove.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}

/// <summary>The second lane of <see cref="EndToEndCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SecondEndToEndLane
{
    public const string Name = "end-to-end, second lane";
}

/// <summary>
/// The package build (<see cref="DebPackage"/>): two self-contained publishes, the CLI compiled
/// ahead of time, a minute or two of compiling and no mesh. In a lane of its own it runs from
/// the start beside the two mesh lanes instead of holding one of them up (xunit.runner.json
/// lets three collections run at once).
/// </summary>
[CollectionDefinition(Name)]
public sealed class PackageLane
{
    public const string Name = "package";
}
