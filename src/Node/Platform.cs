// Mesh configures Linux hosts: file modes, owners and the rest are Unix notions.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
