using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// <c>mesh.tasks { }</c>: whether this node runs tasks at all, how long a finished task and its
/// results stay in the replicated state, and how much output the node keeps on its disk.
/// </summary>
public sealed record TaskSettings(bool Enabled, TimeSpan Retention, long OutputCap, int KeepOutputs, string? DefaultUser)
{
    public static TaskSettings Default { get; } = new(false, TimeSpan.FromHours(1), 1024 * 1024, 100, null);

    public static TaskSettings From(Config mesh)
    {
        var retention = mesh.GetTimeSpan("tasks.retention", Default.Retention);
        if (retention <= TimeSpan.Zero) throw new ConfigurationException("mesh.tasks.retention must be positive");
        var cap = mesh.GetByteSize("tasks.output-cap") ?? Default.OutputCap;
        if (cap is < 1024 or > 64L * 1024 * 1024) throw new ConfigurationException($"mesh.tasks.output-cap = {cap}: must be between 1 KiB and 64 MiB");
        var keep = mesh.GetInt("tasks.keep-outputs", Default.KeepOutputs);
        if (keep < 1) throw new ConfigurationException("mesh.tasks.keep-outputs must be at least 1");
        var user = mesh.GetString("tasks.user", "");
        return new TaskSettings(mesh.GetBoolean("tasks.enabled", false), retention, cap, keep, string.IsNullOrWhiteSpace(user) ? null : user);
    }
}
