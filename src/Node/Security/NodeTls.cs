using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using Mesh.Node.Configuration;
using Mesh.Protocol.Security;

namespace Mesh.Node.Security;

/// <summary>
/// Mutual TLS between nodes (Akka remoting over DotNetty with <c>enable-ssl</c>): this node's
/// certificate and the fleet CA, loaded from the files <c>mesh.tls</c> names, and the rule
/// for peers. Both ends of every connection present a certificate, and each accepts the other
/// only when that certificate chains to a fleet CA, is within its validity period, and is
/// not listed in <c>mesh.tls.revoked</c>. Host names are not checked: nodes are addressed by
/// IP and identified by the CA that signed them, not by the name they are reached at.
/// </summary>
public sealed class NodeTls
{
    /// <summary>A certificate closer than this to its end is announced with a warning at start.</summary>
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    public X509Certificate2 Certificate { get; }
    public X509Certificate2Collection Authorities { get; }
    public IReadOnlySet<string> Revoked { get; }

    private NodeTls(X509Certificate2 certificate, X509Certificate2Collection authorities, IReadOnlySet<string> revoked)
    {
        Certificate = certificate;
        Authorities = authorities;
        Revoked = revoked;
    }

    /// <summary>
    /// Loads what <paramref name="settings"/> names; null when TLS is off. Anything a peer would
    /// refuse anyway (no private key, expired, not from the fleet CA) is refused here, at start,
    /// with a <see cref="ConfigurationException"/> naming the file.
    /// </summary>
    public static NodeTls? Load(TlsSettings settings, DateTimeOffset? now = null)
    {
        if (!settings.Enabled) return null;
        var at = now ?? DateTimeOffset.UtcNow;
        var password = settings.PasswordFile.Length > 0 ? ReadPassword(settings.PasswordFile) : null;
        var certificate = LoadCertificate(settings, password);
        var authorities = LoadAuthorities(settings.Authority);
        var revoked = settings.Revoked.Select(FleetCertificates.NormalizeFingerprint).ToHashSet(StringComparer.Ordinal);
        var tls = new NodeTls(certificate, authorities, revoked);

        var file = $"{TlsSettings.Describe("certificate")} '{settings.Certificate}'";
        if (at < certificate.NotBefore)
            throw new ConfigurationException($"{file}: the certificate is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC (is this host's clock right?)");
        if (at > certificate.NotAfter)
            throw new ConfigurationException($"{file}: the certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; issue a new one (mesh certs node)");
        if (tls.Refusal(certificate, at.UtcDateTime) is { } refusal)
            throw new ConfigurationException($"{file}: every peer would refuse this node: {refusal} ({TlsSettings.Describe("ca")} is '{settings.Authority}')");
        return tls;
    }

    /// <summary>
    /// The Akka side: <c>enable-ssl</c> (the address scheme becomes <c>akka.ssl.tcp</c>), and
    /// this node's certificate and peer rule handed to the transport, which asks for a
    /// certificate on every inbound connection and presents its own on every outbound one.
    /// Without TLS, the configuration alone.
    /// </summary>
    public static ActorSystemSetup Setup(NodeTls? tls, Config akka)
    {
        var bootstrap = BootstrapSetup.Create();
        if (tls is null) return ActorSystemSetup.Create(bootstrap.WithConfig(akka));
        var config = ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = on").WithFallback(akka);
        return bootstrap.WithConfig(config).And(new DotNettySslSetup(tls.Certificate, suppressValidation: false,
            requireMutualAuthentication: true, customValidator: tls.Validate));
    }

    /// <summary>
    /// The transport's question for every peer certificate, on both ends of a connection. The
    /// chain and errors the TLS layer worked out against the host's trust store are not used.
    /// </summary>
    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors errors, ILoggingAdapter log)
    {
        var refusal = Refusal(certificate, DateTime.UtcNow);
        if (refusal is null) return true;
        Interlocked.Increment(ref _refusals);
        LastRefusal = $"refused peer {remotePeer}: {refusal}";
        log?.Warning("TLS: {0}", LastRefusal);
        return false;
    }

    /// <summary>
    /// The last peer this node refused, and why: said again when a failed handshake stops the
    /// node, since the log line may not be written out before the process ends.
    /// </summary>
    public string? LastRefusal { get; private set; }

    private int _refusals;

    /// <summary>How many peer certificates this node has refused since it started.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>The fleet CA as the operator can tell it apart from another CA of the same name.</summary>
    private string FleetCa => string.Join(" or ", Authorities.Select(a => $"{a.Subject}, SHA-256 {FleetCertificates.Fingerprint(a)}"));

    /// <summary>Why a peer's certificate is not accepted, or null when it is.</summary>
    public string? Refusal(X509Certificate2? certificate, DateTime at)
    {
        if (certificate is null) return "it presented no certificate";
        var fingerprint = FleetCertificates.Fingerprint(certificate);
        var who = $"certificate {certificate.Subject} (SHA-256 {fingerprint}, issued by {certificate.Issuer})";
        if (Revoked.Contains(fingerprint)) return $"{who} is revoked (mesh.tls.revoked)";

        // The fleet CA is the only root trusted here: the host's own trust store plays no part,
        // so a certificate from any public CA is as foreign as a self-signed one.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = at;
        if (chain.Build(certificate)) return null;

        var problems = chain.ChainStatus.Select(s => s.Status).Distinct().ToArray();
        if (problems.Contains(X509ChainStatusFlags.NotTimeValid))
            return $"{who} is outside its validity period ({certificate.NotBefore.ToUniversalTime():yyyy-MM-dd} to {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})";
        if (problems.Any(p => p is X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain))
            return $"{who} is not signed by the fleet CA ({FleetCa})";
        return $"{who} does not chain to the fleet CA ({FleetCa}): {string.Join(", ", chain.ChainStatus.Select(s => $"{s.Status} ({s.StatusInformation.Trim()})"))}";
    }

    /// <summary>
    /// Tells the operator how this node talks to its peers: one line at start naming the
    /// certificate and the CA, or, without TLS, a warning that node-to-node traffic is open to
    /// anyone who reaches the cluster port; and, should a TLS handshake stop the node, why.
    /// </summary>
    public static void Announce(MeshNode node, TextWriter output, TextWriter error, DateTimeOffset? now = null)
    {
        var name = node.Settings.Name;
        var tls = node.Tls;
        if (tls is null)
        {
            error.WriteLine($"mesh-node {name}: warning: TLS between nodes is off (no mesh.tls.certificate): node-to-node traffic is plaintext and " +
                $"unauthenticated, and any host that reaches port {node.Cluster.SelfAddress.Port} can join this mesh and push to every node " +
                "(see docs/OPERATIONS.md, TLS between nodes)");
            return;
        }

        var certificate = tls.Certificate;
        output.WriteLine($"mesh-node {name}: TLS between nodes, mutual: certificate {certificate.Subject} (SHA-256 {FleetCertificates.Fingerprint(certificate)}, " +
            $"valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}); peers must present a certificate signed by {tls.FleetCa}");
        var left = certificate.NotAfter.ToUniversalTime() - (now ?? DateTimeOffset.UtcNow);
        if (left < ExpiryWarning)
            error.WriteLine($"mesh-node {name}: warning: this node's certificate expires in {Math.Max(0, (int)left.TotalDays)} day(s), on " +
                $"{certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; peers refuse it from then on (docs/OPERATIONS.md, Rotating a node certificate)");

        // Akka.Remote stops the whole node when a TLS handshake it started fails (it refused the
        // peer's certificate, or the peer refused its own), so that a half-trusted node does not
        // linger. Its reason type is internal, hence the match by name.
        node.System.WhenTerminated.ContinueWith(_ =>
        {
            if (StoppedByHandshake(node))
                error.WriteLine($"mesh-node {name}: stopping: a TLS handshake with a peer failed " +
                    (tls.LastRefusal is { } last
                        ? $"(TLS: {last})"
                        : "(see the 'TLS' lines above: a peer whose certificate this node refuses, or one that refuses this node's)"));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>True when Akka stopped the node because a TLS handshake it started failed.</summary>
    public static bool StoppedByHandshake(MeshNode node) => StoppedByHandshake(node.System);

    /// <inheritdoc cref="StoppedByHandshake(MeshNode)"/>
    public static bool StoppedByHandshake(ActorSystem system) =>
        CoordinatedShutdown.Get(system).ShutdownReason?.GetType().Name == "TlsHandshakeFailureReason";

    // ---- files ----------------------------------------------------------------------------------

    private static X509Certificate2 LoadCertificate(TlsSettings settings, string? password)
    {
        var what = TlsSettings.Describe("certificate");
        var bytes = ReadBytes(settings.Certificate, what);
        if (!IsPem(bytes))
        {
            if (settings.Key.Length > 0)
                throw new ConfigurationException($"{what} '{settings.Certificate}' is not PEM (a PKCS#12 file holds its own key): leave {TlsSettings.Describe("key")} empty");
            try
            {
                var certificate = X509CertificateLoader.LoadPkcs12(bytes, password);
                if (!certificate.HasPrivateKey)
                    throw new ConfigurationException($"{what} '{settings.Certificate}' holds no private key");
                return certificate;
            }
            catch (CryptographicException e)
            {
                throw new ConfigurationException($"{what} '{settings.Certificate}' cannot be read as PKCS#12 (.pfx/.p12) " +
                    (password is null ? $"without a password ({TlsSettings.Describe("password-file")})" : "with the password in " + settings.PasswordFile) + $": {e.Message}");
            }
        }

        var certificatePem = Encoding.UTF8.GetString(bytes);
        if (!certificatePem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            throw new ConfigurationException($"{what} '{settings.Certificate}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        var keyFile = settings.Key.Length > 0 ? settings.Key : settings.Certificate;
        var keyPem = settings.Key.Length > 0 ? Encoding.UTF8.GetString(ReadBytes(settings.Key, TlsSettings.Describe("key"))) : certificatePem;
        if (!keyPem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            throw new ConfigurationException(settings.Key.Length > 0
                ? $"{TlsSettings.Describe("key")} '{settings.Key}' holds no PEM private key"
                : $"{what} '{settings.Certificate}' holds no private key: name the key file with {TlsSettings.Describe("key")}");
        try
        {
            using var pem = keyPem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromEncryptedPem(certificatePem, keyPem, password ?? throw new ConfigurationException(
                    $"the private key in '{keyFile}' is encrypted: give its password with {TlsSettings.Describe("password-file")}"))
                : X509Certificate2.CreateFromPem(certificatePem, keyPem);
            // The same in-memory form a PKCS#12 file gives: the TLS layer takes its key from there.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new ConfigurationException($"the private key in '{keyFile}' does not fit the certificate in '{settings.Certificate}', or cannot be read: {e.Message}");
        }
    }

    private static X509Certificate2Collection LoadAuthorities(string path)
    {
        var what = TlsSettings.Describe("ca");
        var text = Encoding.UTF8.GetString(ReadBytes(path, what));
        if (text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            throw new ConfigurationException($"{what} '{path}' holds a private key: nodes need only the CA certificate (ca.crt); keep the CA's key off the fleet");
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new ConfigurationException($"{what} '{path}' cannot be read as PEM certificates: {e.Message}");
        }
        if (authorities.Count == 0)
            throw new ConfigurationException($"{what} '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        return authorities;
    }

    private static string ReadPassword(string path) =>
        Encoding.UTF8.GetString(ReadBytes(path, TlsSettings.Describe("password-file"))).TrimEnd('\r', '\n');

    private static byte[] ReadBytes(string path, string what)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigurationException($"{what} '{path}': no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{what} '{path}' cannot be read: {e.Message}");
        }
    }

    private static bool IsPem(byte[] bytes) =>
        Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 4096)).Contains("-----BEGIN ", StringComparison.Ordinal);
}
