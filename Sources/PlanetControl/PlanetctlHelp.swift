import PlanetCore

/// planetctl's help: the overview (`planetctl --help`) and one text per command, which
/// `--help` or `-h` anywhere after the command prints (`planetctl vm attach --help`,
/// `planetctl nodes find -h`). Here rather than in main.swift so a test can check that every
/// command has its help and that its usage line matches Docs/cli.md.
public enum PlanetctlHelp {
    public static var usage: String { """
    usage: planetctl [--socket PATH] [--json] COMMAND

    commands:
      self                 this node's key, address, subnet, version and uptime
      peers                peers and their link state
      peers add URI        add a peer now (udp://, tcp:// or tls://HOST:PORT[?key=HEX]); not kept across restarts
      peers remove URI     remove the peer configured with this URI, and only it; not kept across restarts
      routes               the routing table
      sessions             end-to-end sessions
      stats                traffic, drop and handshake counters
      vm [list]            VMs and containers this node hosts: address, interface, policy, state, traffic
      vm show NAME         one VM in detail
      vm attach NAME (--tap IFNAME [--owner USER] | --netns NS) [--address ADDR] [--allow RULE]...
                           [--cpu N] [--memory SIZE] [--disk SIZE] [--force]
                           give a VM (a tap for qemu) or a container (a veth into its namespace) an
                           overlay address from this node's /64; RULE: any (default), key:HEX,
                           tcp:PORT, udp:PORT, or a combination like key:HEX,tcp:22
      vm policy NAME --allow RULE...   replace a VM's inbound rules, live
      vm detach NAME       remove its interface, routes, filter and lease
      vm cloud-init NAME   the NoCloud network-config (v2) for the guest on that tap
      nodes                every capacity record this node holds, with its age
      nodes show KEY|ADDRESS
                           one capacity record
      nodes find [FILTERS] nodes with the capacity asked for, nearest (lowest route metric) first:
    \(filterList)

    options:
      --socket PATH        admin socket (default $PLANETCTL_SOCKET, else /run/planetary/planetd.sock)
      --json               print the daemon's reply as JSON instead of a table
      --help, --version    COMMAND --help: that command's help

    exit codes: 0 success, 1 the daemon failed or could not be reached, 2 bad usage
    """ }

    /// The commands, by their words, each with its usage and what it does.
    public static var commands: [(words: [String], text: String)] { [
        (["self"], """
        usage: planetctl self

        This node's public key, overlay address, subnet, version and uptime; its public endpoints
        as its peers see them, the NAT mapping kind, its local endpoints, and whether hole
        punching is on.
        """),
        (["peers"], """
        usage: planetctl peers
               planetctl peers add URI
               planetctl peers remove URI

        Every peer: key, address, state, direction, RTT, traffic, uptime, cipher, endpoint, URI.
        See planetctl peers add --help and planetctl peers remove --help.
        """),
        (["peers", "add"], """
        usage: planetctl peers add udp://HOST:PORT[?key=HEX]
               planetctl peers add tcp://HOST:PORT[?key=HEX&password=TEXT&priority=N]
               planetctl peers add tls://HOST:PORT[?key=HEX&password=TEXT&priority=N]

        Adds a peer now; ?key= pins its public key (64 hex digits), so a node answering with
        another key is refused. udp:// is a Planetary link; tcp:// and tls:// are Yggdrasil 0.5
        links, with yggdrasil's ?password= (at most 64 bytes) and ?priority= (0-255). Quote the
        URI in a shell (the & separates parameters). Not kept across a restart: also add it to
        the config's peers.
        """),
        (["peers", "remove"], """
        usage: planetctl peers remove udp://HOST:PORT[?key=HEX]

        Removes the peer configured with this URI, and only that one: with ?key=, the peer
        pinned to that key; without, the unpinned peer on that endpoint (or its only peer, when
        the endpoint has just one). Not kept across a restart: also remove it from the config's
        peers.
        """),
        (["routes"], """
        usage: planetctl routes

        The routing table: prefix, address, key, next hop, metric, seqno.
        """),
        (["sessions"], """
        usage: planetctl sessions

        End-to-end sessions, each with its traffic, uptime, path (direct, direct-punched or
        relayed) and next hop.
        """),
        (["stats"], """
        usage: planetctl stats

        Packet, byte, drop, handshake, capacity and hole-punching counters.
        """),
        (["vm"], """
        usage: planetctl vm [list]
               planetctl vm show|detach|cloud-init NAME
               planetctl vm attach NAME (--tap IFNAME [--owner USER] | --netns NS) [OPTIONS]
               planetctl vm policy NAME --allow RULE...

        The VMs and containers this node hosts: name, address, interface, policy, state,
        traffic, refused and spoofed packets. See planetctl vm COMMAND --help.
        """),
        (["vm", "list"], """
        usage: planetctl vm [list]

        The VMs and containers this node hosts: name, address, interface, policy, state, bytes
        in and out, refused and spoofed packets.
        """),
        (["vm", "show"], """
        usage: planetctl vm show NAME

        One VM in detail: MAC, gateway, policy, declared resources, counters.
        """),
        (["vm", "attach"], """
        usage: planetctl vm attach NAME (--tap IFNAME [--owner USER] | --netns NS) [--address ADDR]
                                   [--allow RULE]... [--cpu N] [--memory SIZE] [--disk SIZE] [--force]

        Gives a VM (a tap for a hypervisor) or a container (a veth into an existing network
        namespace) an address from this node's /64.
          --tap IFNAME     a tap, created or adopted; --owner USER lets an unprivileged hypervisor open it
          --netns NS       a veth pair into the namespace NS (ip netns)
          --address ADDR   the VM's address (default: derived from NAME)
          --allow RULE     who may reach it: any (default), key:HEX, tcp:PORT, udp:PORT, or a
                           combination like key:HEX,tcp:22; repeat to add rules
          --cpu N, --memory SIZE, --disk SIZE
                           what the VM takes from the node (SIZE: bytes or K, M, G, T); counted as
                           used in the node's capacity record. When the node announces capacity,
                           more than its record has free is refused (exit 2)
          --force          attach it even so; planetctl prints a warning per resource overrun
        NAME: 1-32 letters, digits, '.', '_', '-', starting with a letter or digit.
        """),
        (["vm", "policy"], """
        usage: planetctl vm policy NAME --allow RULE [--allow RULE]...

        Replaces a VM's inbound rules, live. RULE: any, key:HEX, tcp:PORT, udp:PORT, or a
        combination like key:HEX,tcp:22.
        """),
        (["vm", "detach"], """
        usage: planetctl vm detach NAME

        Removes the VM's interface, route, rule, filter and lease.
        """),
        (["vm", "cloud-init"], """
        usage: planetctl vm cloud-init NAME

        Prints the NoCloud network-config (version 2) for the guest on that tap: its address,
        routes to 200::/7 and 300::/8 via fe80::1, the MTU.
        """),
        (["nodes"], """
        usage: planetctl nodes
               planetctl nodes show KEY|ADDRESS
               planetctl nodes find [FILTERS]

        Every capacity record this node holds, nearest (lowest route metric) first, with its
        age. See planetctl nodes show --help and planetctl nodes find --help.
        """),
        (["nodes", "show"], """
        usage: planetctl nodes show KEY|ADDRESS

        One capacity record in full, by public key (64 hex digits) or overlay address.
        """),
        (["nodes", "find"], """
        usage: planetctl nodes find [FILTERS]

        The capacity records that pass every filter, nearest (lowest route metric) first:
        \(filterTable)
        """),
    ] }

    /// The help for the command `words` names (the words before any option; a VM name or
    /// other argument after the command is ignored). A word that names no command is the same
    /// usage error the command itself would give, so `planetctl peer --help` exits 2 too.
    public static func text(for words: [String]) -> Result<String, PlanetctlCommand.UsageError> {
        guard let first = words.first else { return .success(usage) }
        guard let group = commands.first(where: { $0.words == [first] }) else {
            return .failure(PlanetctlCommand.unknownCommand(first))
        }
        // Only peers, vm and nodes have sub-commands; a further word of the others is an argument.
        let verbs = commands.filter { $0.words.count == 2 && $0.words[0] == first }
        guard words.count > 1, !verbs.isEmpty else { return .success(group.text + footer) }
        if let verb = verbs.first(where: { $0.words[1] == words[1] }) { return .success(verb.text + footer) }
        return .failure(PlanetctlCommand.unknownVerb(words[1], of: first))
    }

    /// The overview's filter list: every `NodeFilter` as typed, wrapped.
    static var filterList: String {
        wrap(NodeFilter.allCases.map(\.usage), width: 86, indent: String(repeating: " ", count: 10))
    }

    /// `nodes find --help`'s table: each `NodeFilter` with what it keeps (`NodeFilter.help`).
    static var filterTable: String {
        let column = 20
        return NodeFilter.allCases.map { f in
            let lead = "  " + f.usage
            let help = wrap(f.help.split(separator: " ").map(String.init), width: 96 - column, indent: String(repeating: " ", count: column))
                .dropFirst(column).description
            return lead.count < column - 1
                ? lead + String(repeating: " ", count: column - lead.count) + help
                : lead + "\n" + String(repeating: " ", count: column) + help
        }.joined(separator: "\n")
    }

    /// `words` joined by spaces into lines of at most `width` characters (a longer word has a
    /// line of its own), each line after `indent`.
    static func wrap(_ words: [String], width: Int, indent: String) -> String {
        var lines: [String] = []
        var line = ""
        for w in words {
            if !line.isEmpty, line.count + 1 + w.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + w
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { indent + $0 }.joined(separator: "\n")
    }

    static let footer = "\n\nglobal options: --socket PATH, --json (planetctl --help)"
}
