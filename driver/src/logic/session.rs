//! Who may use the control device: the process that holds the FltMgr port connection,
//! after a successful handshake. The port admits one administrator at a time
//! (MaxConnections 1, an admin-only security descriptor), so this is also what makes
//! every IOCTL admin-only.
//!
//! A process is named by its pid *and* its start key: pids are reused, the pair is not.

use super::status;

/// A process identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessId {
    /// Process id.
    pub pid: u32,
    /// Boot-unique start key (PsGetProcessStartKey).
    pub key: u64,
}

/// The connected client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its identity, taken in the port's connect callback (which runs in its context).
    pub id: ProcessId,
    /// Whether IOCTL_HELLO succeeded.
    pub handshake: bool,
}

/// Why a request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Nobody is connected, or the caller is another process.
    NotClient,
    /// The caller is the client but has not completed the handshake.
    NoHandshake,
    /// A client is already connected.
    Busy,
}

impl Refused {
    /// The NTSTATUS the request completes with.
    pub const fn status(self) -> i32 {
        match self {
            Refused::NotClient => status::ACCESS_DENIED,
            Refused::NoHandshake => status::INVALID_DEVICE_STATE,
            Refused::Busy => status::DEVICE_ALREADY_ATTACHED,
        }
    }
}

/// The session state (guarded by the caller's lock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Session {
    client: Option<Client>,
}

impl Session {
    /// No client.
    pub const fn new() -> Self {
        Self { client: None }
    }

    /// The client, if connected.
    pub fn client(&self) -> Option<Client> {
        self.client
    }

    /// A process connected to the port.
    pub fn connect(&mut self, id: ProcessId) -> Result<(), Refused> {
        match self.client {
            Some(_) => Err(Refused::Busy),
            None => {
                self.client = Some(Client { id, handshake: false });
                Ok(())
            }
        }
    }

    /// The client disconnected; returns who it was.
    pub fn disconnect(&mut self) -> Option<Client> {
        self.client.take()
    }

    /// Whether `caller` is the connected client (handshake or not).
    pub fn is_client(&self, caller: ProcessId) -> bool {
        self.client.is_some_and(|c| c.id == caller)
    }

    /// Checks a request that needs the handshake (everything but IOCTL_HELLO).
    pub fn authorize(&self, caller: ProcessId) -> Result<Client, Refused> {
        match self.client {
            Some(c) if c.id == caller && c.handshake => Ok(c),
            Some(c) if c.id == caller => Err(Refused::NoHandshake),
            _ => Err(Refused::NotClient),
        }
    }

    /// Records a successful handshake by `caller`.
    pub fn complete_handshake(&mut self, caller: ProcessId) -> Result<(), Refused> {
        match self.client.as_mut() {
            Some(c) if c.id == caller => {
                c.handshake = true;
                Ok(())
            }
            _ => Err(Refused::NotClient),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: ProcessId = ProcessId { pid: 100, key: 7 };
    /// Same pid as A, a later process (pid reuse).
    const A_REUSED: ProcessId = ProcessId { pid: 100, key: 9 };
    const B: ProcessId = ProcessId { pid: 200, key: 8 };

    #[test]
    fn only_the_connected_process_after_handshake() {
        let mut s = Session::new();
        assert_eq!(s.authorize(A), Err(Refused::NotClient));
        assert_eq!(s.connect(A), Ok(()));
        assert_eq!(s.connect(B), Err(Refused::Busy));
        assert_eq!(s.authorize(A), Err(Refused::NoHandshake));
        assert_eq!(s.complete_handshake(B), Err(Refused::NotClient));
        assert_eq!(s.complete_handshake(A), Ok(()));
        assert!(s.authorize(A).is_ok());
        assert_eq!(s.authorize(B), Err(Refused::NotClient));
        assert_eq!(s.authorize(A_REUSED), Err(Refused::NotClient), "a reused pid is another process");
    }

    #[test]
    fn disconnect_ends_the_session() {
        let mut s = Session::new();
        assert_eq!(s.connect(A), Ok(()));
        assert_eq!(s.complete_handshake(A), Ok(()));
        assert_eq!(s.disconnect(), Some(Client { id: A, handshake: true }));
        assert_eq!(s.authorize(A), Err(Refused::NotClient));
        assert_eq!(s.connect(B), Ok(()), "the next client starts without a handshake");
        assert_eq!(s.authorize(B), Err(Refused::NoHandshake));
    }

    #[test]
    fn refusals_map_to_distinct_statuses() {
        let all = [Refused::NotClient, Refused::NoHandshake, Refused::Busy].map(Refused::status);
        assert!(all.iter().all(|&s| !status::is_success(s)));
        assert!(all[0] != all[1] && all[1] != all[2] && all[0] != all[2]);
    }
}
