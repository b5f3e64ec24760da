namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Real mesh-node processes on loopback, n1 … nN, seeded by n1, for the rollout tests: a
/// rollout's order is by name, so n1 and n2 make the first batch of two.
/// </summary>
public abstract class RolloutMesh(int size, string[]? roles = null) : IAsyncLifetime
{
    private readonly NodeGroup _nodes = NodeGroup.InTempDirectory("mesh-e2e-rollout-");

    public IReadOnlyList<NodeProcess> Nodes { get; private set; } = [];

    public NodeProcess this[string name] => Nodes.Single(n => n.Name == name);

    public async Task InitializeAsync()
    {
        var first = await _nodes.StartAsync("n1", roles: roles);
        var nodes = new List<NodeProcess> { first };
        // One at a time: six JIT-compiling processes at once starve a small machine.
        for (var i = 2; i <= size; i++) nodes.Add(await _nodes.StartAsync($"n{i}", seed: first.ClusterAddress, roles: roles));
        Nodes = nodes;
        await ThreeNodeMesh.Until(async () => (await Task.WhenAll(Nodes.Select(n => n.MembersAsync())))
            .All(members => members.Count(m => m.Status == "up") == size), $"every node sees {size} members up", TimeSpan.FromSeconds(90));
    }

    public string WorkDir => _nodes.WorkDir;

    public string Write(string fileName, string text) => _nodes.Write(fileName, text);

    /// <summary>The content of a file under a node's root, or null when it is not there.</summary>
    public static string? Read(NodeProcess node, string path) => File.Exists(node.RootPath(path)) ? File.ReadAllText(node.RootPath(path)) : null;

    public async Task DisposeAsync() => await _nodes.DisposeAsync();
}

public sealed class SixNodeMesh() : RolloutMesh(6);

public sealed class FourNodeMesh() : RolloutMesh(4);

/// <summary>Three nodes of role web, for the balancer test.</summary>
public sealed class WebNodeMesh() : RolloutMesh(3, ["web"]);
