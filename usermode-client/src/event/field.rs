//! Field names Vigil knows: Sysmon's EventData names for the categories in
//! scope, plus the event-level names exports carry beside them.

macro_rules! fields {
    ($( $name:ident ),* $(,)?) => {
        /// A known field name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(missing_docs, non_camel_case_types, reason = "variants are the Sysmon field names themselves")]
        pub enum Field { $( $name ),* }

        impl Field {
            /// Every known field.
            pub const ALL: &'static [Field] = &[$( Field::$name ),*];
            /// Number of known fields.
            pub const COUNT: usize = Self::ALL.len();

            /// The field's name as it appears in events and rules.
            pub const fn name(self) -> &'static str {
                match self { $( Field::$name => stringify!($name) ),* }
            }

            /// The field with this exact (case-sensitive) name.
            pub fn from_name(name: &str) -> Option<Field> {
                match name { $( stringify!($name) => Some(Field::$name), )* _ => None }
            }
        }
    };
}

fields! {
    // Event-level.
    EventID, Provider_Name, Channel, Computer,
    // Common to Sysmon events.
    RuleName, UtcTime, ProcessGuid, ProcessId, Image, User,
    // process_creation.
    FileVersion, Description, Product, Company, OriginalFileName, CommandLine, CurrentDirectory,
    LogonGuid, LogonId, TerminalSessionId, IntegrityLevel, Hashes,
    ParentProcessGuid, ParentProcessId, ParentImage, ParentCommandLine, ParentUser,
    // image_load.
    ImageLoaded, Signed, Signature, SignatureStatus,
    // file_event / file_delete / file_change / file_rename / file_access.
    TargetFilename, CreationUtcTime, PreviousCreationUtcTime, IsExecutable, Archived,
    SourceFilename, FileName,
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn names_round_trip() {
        for &f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
        assert_eq!(Field::from_name("commandline"), None);
    }
}
