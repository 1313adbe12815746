/// The NoCloud network-config (version 2) a guest on a tap needs to join the overlay: its
/// address as a /128 (the node routes every VM separately; no two VMs share an on-link
/// prefix, so a /64 on the guest would make it look for its neighbours on a wire they are not
/// on), routes to 200::/7 and 300::/8 via the node's link-local gateway, and the overlay's MTU.
/// No default route: the guest keeps whatever other network it has for the rest of the world.
/// Matched by MAC, so the interface's name inside the guest does not matter.
public enum VMCloudInit {
    public static func networkConfig(for lease: VMLease, mtu: Int) -> String {
        let gateway = VMTable.gateway.description
        return """
        # NoCloud network-config for VM '\(lease.name)' on the planetary network
        version: 2
        ethernets:
          planet0:
            match:
              macaddress: "\(lease.mac)"
            set-name: planet0
            mtu: \(mtu)
            dhcp4: false
            dhcp6: false
            accept-ra: false
            addresses:
              - "\(lease.address)/128"
            routes:
              - to: "200::/7"
                via: "\(gateway)"
                on-link: true
              - to: "300::/8"
                via: "\(gateway)"
                on-link: true

        """
    }
}
