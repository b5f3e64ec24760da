using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// <c>mesh.facts { }</c> and <c>mesh.fleet { }</c>: where custom facts are, how often facts are
/// gathered again, how long a custom fact may run, and how long a departed member stays in the
/// fleet templates see.
/// </summary>
public sealed record FactsSettings(string Directory, TimeSpan RefreshInterval, TimeSpan Timeout, TimeSpan DepartureGrace)
{
    /// <param name="configDir">the directory of the cluster.hocon the node read, or "" when it read none</param>
    public static FactsSettings From(Config mesh, string dataDir)
    {
        var directory = mesh.GetString("facts.directory", "");
        var configDir = mesh.GetString("config-dir", "");
        if (string.IsNullOrWhiteSpace(directory))
            directory = Path.Combine(string.IsNullOrWhiteSpace(configDir) ? dataDir : configDir, "facts.d");
        var refresh = mesh.GetTimeSpan("facts.refresh-interval", TimeSpan.FromMinutes(5));
        if (refresh < TimeSpan.FromSeconds(1)) throw new ConfigurationException("mesh.facts.refresh-interval must be at least 1s");
        var timeout = mesh.GetTimeSpan("facts.timeout", TimeSpan.FromSeconds(10));
        if (timeout <= TimeSpan.Zero) throw new ConfigurationException("mesh.facts.timeout must be positive");
        var grace = mesh.GetTimeSpan("fleet.departure-grace", TimeSpan.FromSeconds(30));
        if (grace < TimeSpan.Zero) throw new ConfigurationException("mesh.fleet.departure-grace must not be negative");
        return new FactsSettings(Path.GetFullPath(directory), refresh, timeout, grace);
    }
}
