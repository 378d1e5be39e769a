import ArgumentParser
import Foundation
import InsightServer

struct CA: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Show, make or replace the local certificate authority behind transparent HTTPS.",
        discussion: """
            The CA is made once and kept in the folder ca beside the store (ca.pem, ca-key.pem with \\
            mode 0600, and ca-bundle.pem: the system's roots plus this CA). Clients trust ca.pem (or \\
            the bundle) and keep certificate checks on; `serve` issues a leaf for each Rapid7 host \\
            they reach. The key never leaves this machine: do not share it or commit it.
            """)

    @OptionGroup var storeOption: StoreOption
    var store: String { storeOption.store }

    @Flag(name: .long, help: "Print only the path of ca.pem (for scripts).")
    var path = false

    @Flag(name: .long, help: "Replace the CA with a new one; clients must trust the new ca.pem.")
    var reset = false

    func run() async throws {
        let directory = CertificateAuthority.directory(besideStore: store)
        let authority: CertificateAuthority
        do {
            authority = reset ? try CertificateAuthority.reset(directory: directory)
                : try CertificateAuthority.loadOrCreate(directory: directory)
        } catch {
            throw refuse(error)
        }
        if path {
            print(ClientEnvironment.absolute(authority.certificatePath))
            return
        }
        print("\(reset ? "new " : "")CA: \(authority.subject)")
        print("  certificate  \(ClientEnvironment.absolute(authority.certificatePath))")
        print("  bundle       \(ClientEnvironment.absolute(authority.bundlePath))   (system roots + this CA)")
        print("  private key  \(ClientEnvironment.absolute(authority.keyPath))   (mode 0600)")
    }
}
