namespace Mesh.Protocol.Manifests;

/// <summary>The order resources apply in: every resource after the ones it requires.</summary>
public static class ResourceGraph
{
    /// <summary>A cycle as ids (first id repeated at the end), or null when there is none.</summary>
    public static string[]? FindCycle(IReadOnlyList<ResourceSpec> resources)
    {
        var byId = resources.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        var path = new List<string>();

        string[]? Visit(string id)
        {
            if (state.TryGetValue(id, out var s))
                return s == 1 ? path.Skip(path.IndexOf(id)).Append(id).ToArray() : null;
            if (!byId.TryGetValue(id, out var r)) return null;
            state[id] = 1;
            path.Add(id);
            foreach (var dep in r.Requires)
                if (Visit(dep) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }

        foreach (var r in resources)
            if (Visit(r.Id) is { } cycle) return cycle;
        return null;
    }

    /// <summary>A stable topological order: manifest order, except that dependencies come first.</summary>
    public static IReadOnlyList<ResourceSpec> Order(IReadOnlyList<ResourceSpec> resources)
    {
        var byId = resources.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<ResourceSpec>(resources.Count);

        void Visit(ResourceSpec r)
        {
            if (!done.Add(r.Id)) return;
            foreach (var dep in r.Requires)
                if (byId.TryGetValue(dep, out var d)) Visit(d);
            order.Add(r);
        }

        foreach (var r in resources) Visit(r);
        return order;
    }
}
