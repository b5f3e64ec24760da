using System.Security.Cryptography;
using Mesh.Protocol.Files;
using Mesh.Protocol.Secrets;

namespace Mesh.Node.Security;

/// <summary>
/// This node's encryption key pair (ECDH P-256), which secrets are sealed to. Made on the
/// node's first start into <c>&lt;data-dir&gt;/node-key</c> (PKCS#8 PEM, mode 0600) and kept
/// for good; the public half is published in the node's cluster roles, so every CLI that
/// asks any node can seal for it. Deleting the file makes a new key at the next start:
/// secrets sealed before can no longer be opened here (push them again).
/// </summary>
public sealed class NodeKey : IDisposable
{
    public const string FileName = "node-key";

    private const UnixFileMode OwnerOnly = AtomicFile.OwnerOnly;

    private readonly ECDiffieHellman _key;
    private readonly Lock _lock = new();

    private NodeKey(ECDiffieHellman key)
    {
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
    }

    /// <summary>The public key, DER SubjectPublicKeyInfo.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The short id envelopes name this key by (hex), as <c>mesh members</c> shows it.</summary>
    public string Id => SecretBox.KeyIdText(PublicKey);

    /// <summary>Loads the node's key, making it first when there is none.</summary>
    /// <exception cref="IOException">the file cannot be read or written, is not a P-256 private key, or others may read it</exception>
    public static NodeKey LoadOrCreate(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (Load(dataDir) is { } existing) return existing;

        var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        AtomicFile.Write(path, key.ExportPkcs8PrivateKeyPem() + "\n", OwnerOnly, overwrite: false);
        return new NodeKey(key);
    }

    /// <summary>The node's key when its file exists (as <c>mesh-node apply</c> uses it), else null.</summary>
    /// <exception cref="IOException">the file is not a P-256 private key, or others may read it</exception>
    public static NodeKey? Load(string dataDir)
    {
        var path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path)) return null;
        if ((File.GetUnixFileMode(path) & ~(OwnerOnly | UnixFileMode.UserExecute)) != 0)
            throw new IOException($"{path} can be read by others than its owner: chmod 600 it (and consider the key exposed: delete it to make a new one)");
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid.Value != SecretBox.P256Oid)
                throw new CryptographicException("not a P-256 key");
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw new IOException($"{path} is not this node's P-256 private key ({e.Message}); move it away and a new one is made at start");
        }
        return new NodeKey(key);
    }

    /// <summary>Opens an envelope sealed for this node (one at a time: the key object is shared by the converger and the planner).</summary>
    /// <exception cref="SecretException">not sealed for this key, altered, or sealed for another manifest</exception>
    public byte[] Open(string envelope, string manifest)
    {
        lock (_lock) return SecretBox.Open(envelope, _key, manifest);
    }

    public void Dispose() => _key.Dispose();
}
