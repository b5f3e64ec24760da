using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// The <c>mesh.tls { }</c> section: where this node's certificate, its key and the fleet CA
/// are. TLS between nodes is on exactly when a certificate is named. Paths are made absolute
/// against the working directory, like <c>mesh.data-dir</c>.
/// </summary>
public sealed record TlsSettings(string Certificate, string Key, string PasswordFile, string Authority, string[] Revoked)
{
    public static readonly TlsSettings Off = new("", "", "", "", []);

    public bool Enabled => Certificate.Length > 0;

    /// <summary>How each key is named to the operator: the HOCON key and the flag that sets it.</summary>
    public static string Describe(string key) => key switch
    {
        "certificate" => "mesh.tls.certificate (--tls-cert)",
        "key" => "mesh.tls.key (--tls-key)",
        "password-file" => "mesh.tls.password-file (--tls-password-file)",
        "ca" => "mesh.tls.ca (--tls-ca)",
        _ => "mesh.tls." + key,
    };

    public static TlsSettings From(Config mesh)
    {
        string PathOf(string key) => mesh.GetString("tls." + key, "") is { Length: > 0 } path ? Path.GetFullPath(path) : "";
        var settings = new TlsSettings(
            Certificate: PathOf("certificate"),
            Key: PathOf("key"),
            PasswordFile: PathOf("password-file"),
            Authority: PathOf("ca"),
            Revoked: mesh.HasPath("tls.revoked") ? mesh.GetStringList("tls.revoked").ToArray() : []);
        if (!settings.Enabled)
        {
            var stray = new[] { ("key", settings.Key), ("password-file", settings.PasswordFile), ("ca", settings.Authority) }
                .FirstOrDefault(s => s.Item2.Length > 0);
            if (stray.Item1 is not null)
                throw new ConfigurationException($"{Describe(stray.Item1)} is set but {Describe("certificate")} is not: TLS needs this node's certificate");
            return Off;
        }
        if (settings.Authority.Length == 0)
            throw new ConfigurationException($"{Describe("certificate")} is set but {Describe("ca")} is not: name the fleet CA certificate peers must chain to");
        return settings;
    }
}
